import Crypto
import Exchange
import Foundation
import Logging
import SQLite
import Synchronization
import Timekeeping

/// The embedded store: SQLite in WAL mode with `synchronous=FULL`, one writer thread that
/// commits concurrent writes together (group commit), and subject keys in a separate file.
///
/// `write` returns only after its commit is durable; a failing write is rolled back without
/// disturbing the others in the same commit (the group runs again, each write in a savepoint).
/// A commit touches the keys file only when a write changes it: intake's does not (keys made
/// ahead and index entries go through `KeysCommitter`), so it syncs the main database alone.
///
/// Failures of the disk are a pause, not an outage: a commit that fails (a full disk, an I/O
/// error) leaves both connections out of any transaction (rolled back, or reopened), fails its
/// writes with `StoreError` kind `unavailable` (HTTP 503), and the writer probes with a real
/// write every second until one commits. A reserve file beside the store (`<store>.reserve`,
/// `reserveBytes` allocated with `posix_fallocate`) is released on the first SQLITE_FULL, so
/// that essential writes (erasure, withdrawal, restriction: `StoreWritePriority.essential`)
/// still commit while other writes are refused; it is taken back before refex accepts again.
/// A damaged file (SQLITE_CORRUPT, SQLITE_NOTADB) stops every write until refex is restarted
/// on a restored store.
package final class SQLiteStore: RefexStore, StoreTestHooks, @unchecked Sendable {
    // @unchecked: the connections and `chain` are used only on the writer thread (a copy's on the
    // reader queue); `queue` and `state` are Mutexes.

    /// Writes that share one commit, at most.
    static let maxBatch = 256
    /// The WAL size past which the writer folds what is left of it into the database between
    /// commits, so that the next commit starts the WAL again from its beginning (the file keeps
    /// its size and is reused; SQLite cuts it back to twice this: `journal_size_limit`).
    package static let defaultWALRestartBytes = 64 << 20

    package let path: String
    package let keysPath: String
    private var main: SQLiteConnection
    private var keys: SQLiteConnection
    private let chain: LogChain
    private let clock: @Sendable () -> Timestamp
    private let checkpointPolicy: CheckpointPolicy?
    private let logger: Logger
    private let queue = Mutex<Pending>(Pending())
    private let state = Mutex<HealthState>(HealthState())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let stalledForTesting = Atomic<Bool>(false)
    private let checkpointStopped = DispatchSemaphore(value: 0)
    private let checkpointerFinished = DispatchSemaphore(value: 0)
    private let readers = DispatchQueue(label: "refex.store.reader")
    /// See `defaultWALRestartBytes`; the writer's own reading of the WAL's size.
    private let walRestartBytes: Int
    private var walRestartTriedAt: ContinuousClock.Instant?
    /// Set by the checkpointer when the WAL holds more than `walRestartBytes` and it has just
    /// folded in all but the last few commits: the writer's fold then copies those alone.
    private let walFoldAsked = Atomic<Bool>(false)
    /// Whether the checkpointer has asked for a fold the writer has not made yet (for tests).
    package var walFoldAskedForTesting: Bool { walFoldAsked.load(ordering: .acquiring) }
    private let readConnections: ReadConnections
    private let reserve: StoreReserve?
    /// Set for a copy opened read-only (`init(copyAt:)`): no writer, nothing changed.
    private let copy: CopyAccess?
    /// Whether opening created the store (both files were missing).
    package let wasCreated: Bool
    /// Keys made ahead and blind-index entries, committed beside the writer (issue 17).
    private let keysAhead: KeysCommitter
    /// Where `keysAhead` reports a failed commit; connected to this store once it is whole.
    private let storageFailures: StorageFailureRelay
    private let groupCounts = CommitGroupCounter()

    private struct Pending {
        var jobs: [WriteJob] = []
        var closing = false
        /// Whether the writer thread was started (`start()`, or the first write).
        var started = false
        var running = true
    }

    private struct HealthState {
        /// Since when commits have failed, and why (in words for /readyz and the log).
        var failingSince: ContinuousClock.Instant?
        var failure: String?
        /// The damaged file and what SQLite said; never cleared while running.
        var corrupt: String?
        var reserveReleased = false
    }

    /// Whether a store may be created where there is none.
    package typealias Creation = StoreCreation

    /// Opens the store at `path`, with subject keys at `keysPath`, creating it only as `creation`
    /// allows, and checks that the two files are one store (`StoreIdentity`), that `masterKey`
    /// (when given) is the one it was created with, and that the data passes `PRAGMA quick_check`
    /// within `integrityCheckLimit` (a check still running then goes on in the background).
    /// Throws `StoreError` naming the file and what to do.
    package init(
        path: String, keysPath: String, logger: Logger, masterKey: SymmetricKey? = nil, creation: Creation = .whenBothMissing,
        integrityCheckLimit: Duration = .seconds(20), reserveBytes: Int = 0,
        checkpoints: CheckpointPolicy? = nil, walRestartBytes: Int = SQLiteStore.defaultWALRestartBytes,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp(Date()) }
    ) throws {
        self.checkpointPolicy = checkpoints
        self.walRestartBytes = max(1 << 20, walRestartBytes)
        self.path = path
        self.keysPath = keysPath
        self.clock = clock
        self.logger = logger
        self.copy = nil
        let failures = StorageFailureRelay()
        keysAhead = KeysCommitter(keysPath: keysPath, logger: logger, storageFailed: { failures.report($0) })
        storageFailures = failures
        readConnections = ReadConnections(mode: .readOnly)
        let files = FileManager.default
        var created = false
        switch (files.fileExists(atPath: path), files.fileExists(atPath: keysPath)) {
        case (false, false):
            guard creation == .whenBothMissing else {
                throw StoreError(
                    "there is no store at \(path) (nor its subject keys \(keysPath)): create one with `refex store init --config FILE` (or a first `refex serve`), or restore both files from a backup",
                    kind: .missing
                )
            }
            try Self.create(path: path, keysPath: keysPath, masterKey: masterKey, now: clock().milliseconds)
            created = true
        case (true, false):
            // A file that is not a database at all is named as such first: a wrong path, not a lost half.
            try Self.refuseIfNotADatabase(path, keysPath: keysPath)
            throw StoreError(
                "the subject keys \(keysPath) are missing but the store \(path) is there: without them every subject is unreadable; restore both files from the same backup (README: Restore). refex creates no empty keys file beside existing data",
                kind: .missing
            )
        case (false, true):
            try Self.refuseIfNotADatabase(keysPath, keysPath: keysPath)
            throw StoreError(
                "the store \(path) is missing but its subject keys \(keysPath) are there: restore both files from the same backup (README: Restore), or, to start a new store, move the keys file away. refex creates no empty store beside existing keys",
                kind: .missing
            )
        case (true, true):
            break
        }
        var identity: StoreIdentity?
        var checkUnfinished = false
        do {
            main = try SQLiteConnection(path: path, mode: .readWriteExisting)
            keys = try SQLiteConnection(path: keysPath, mode: .readWriteExisting)
            // Nothing is written before both files are known to be one store.
            let mainIdentity = try Self.identityIfStore(main)
            let keysIdentity = try Self.identityIfStore(keys)
            try StoreIdentity.check(main: mainIdentity, keys: keysIdentity, path: path, keysPath: keysPath, masterKey: masterKey)
            identity = mainIdentity
        } catch let error as StoreError {
            throw Self.damageBehind(error, path: path, keysPath: keysPath)
        } catch let error as SQLiteError {
            throw Self.openingError(error, path: path, keysPath: keysPath)
        }
        do {
            try main.query("PRAGMA journal_mode = WAL")
            // Checkpoints run beside the writer (see `checkpointWAL`), not inside its commits.
            try main.execute(Self.mainSettings(walRestartBytes: self.walRestartBytes))
            // A rollback journal truncated after each commit: no old page (with a deleted key) outlives it.
            try keys.query("PRAGMA journal_mode = TRUNCATE")
            try keys.execute("PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;")
            // A zero limit (host commands beside a running daemon, which checked at its start) skips the check.
            if integrityCheckLimit > .zero, let problems = try keys.quickCheck(limit: integrityCheckLimit), !problems.isEmpty {
                throw StoreError(Self.corruptionAdvice(keysPath, problems.joined(separator: "; ")), kind: .corrupt)
            }
            let mainCheck: [String]? = integrityCheckLimit > .zero ? try main.quickCheck(limit: integrityCheckLimit) : []
            switch mainCheck {
            case .some(let problems) where !problems.isEmpty:
                throw StoreError(Self.corruptionAdvice(path, problems.joined(separator: "; ")), kind: .corrupt)
            case .some:
                break
            case .none:
                checkUnfinished = true
                logger.warning("the integrity check did not finish in time; it goes on in the background", [
                    ("path", path), ("limit_seconds", String(integrityCheckLimit.components.seconds)),
                ])
            }
            try StoreSchema.main.migrate(main)
            try StoreSchema.keys.migrate(keys)
            if identity == nil {
                identity = try StoreIdentity.adopt(main: main, keys: keys, masterKey: masterKey, now: clock().milliseconds)
                logger.notice("recorded the store's identity in both files", [("path", path), ("keys", keysPath)])
            } else if let known = identity, known.keyCheck.isEmpty, let masterKey {
                // A store created without a key (tests, tools) learns its key on the first open with one.
                let learnt = StoreIdentity(storeID: known.storeID, keyCheck: StoreIdentity.keyCheck(masterKey: masterKey, storeID: known.storeID))
                let (mainConnection, keysConnection, now) = (main, keys, clock().milliseconds)
                try keysConnection.transaction { try learnt.record(in: keysConnection, now: now) }
                try mainConnection.transaction { try learnt.record(in: mainConnection, now: now) }
            }
            if integrityCheckLimit > .zero { try StoreIdentity.checkHalvesAgree(main: main, keys: keys, path: path, keysPath: keysPath) }
            let head = try Self.logHead(main)
            chain = LogChain(lastSeq: head.seq, lastHash: head.hash)
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw Self.openingError(error, path: path, keysPath: keysPath)
        } catch {
            throw StoreError("cannot open the store \(path): \(error)")
        }
        reserve = reserveBytes > 0 ? StoreReserve(path: path + ".reserve", bytes: reserveBytes) : nil
        if let reserve, !reserve.take() {
            logger.warning("cannot allocate the disk reserve beside the store; on a full disk even erasures will wait for space", [
                ("path", reserve.path), ("bytes", String(reserveBytes)),
            ])
        }
        wasCreated = created
        if checkUnfinished { finishIntegrityCheckInBackground() }
        // A keys commit beside the writer that fails for the disk's sake pauses the store as the
        // writer's own would: the writer then probes (both files) until a commit succeeds.
        storageFailures.connect { [weak self] error in
            guard let self else { return }
            if error.isCorruption {
                markCorrupt(keysPath, error)
            } else {
                markFailing(error)
                wake.signal()
            }
        }
    }

    package func start() {
        let starting = queue.withLock { pending -> Bool in
            guard !pending.started, !pending.closing, pending.running else { return false }
            pending.started = true
            return true
        }
        if starting { startThreads() }
    }

    /// The writer and the WAL checkpointer; called once, by whoever set `started`.
    private func startThreads() {
        let thread = Thread { [self] in runWriter() }
        thread.name = "refex-store-writer"
        thread.stackSize = 4 << 20
        thread.start()
        let checkpointer = Thread { [self] in runCheckpointer() }
        checkpointer.name = "refex-store-checkpoint"
        checkpointer.start()
    }

    /// Opens a copy of a store (a backup, a file under inspection) read-only: no file is created
    /// beside it (no -wal, -shm or journal), nothing is written to it. Log entries that reading
    /// appends (`log.viewed`, `subject.exported`) go to `live` when given, else nowhere; any
    /// other change fails with `StoreError` kind `readOnlyCopy`.
    /// With `checkIntegrity`, a damaged copy is refused (`PRAGMA quick_check`, up to 60 s).
    package init(copyAt path: String, keysPath: String, logger: Logger, recordingReadsIn live: (any ExchangeStore)?, checkIntegrity: Bool = true) throws {
        self.path = path
        self.keysPath = keysPath
        self.logger = logger
        self.clock = { Timestamp(Date()) }
        self.checkpointPolicy = nil
        self.reserve = nil
        self.walRestartBytes = Self.defaultWALRestartBytes
        self.copy = CopyAccess(live: live)
        self.wasCreated = false
        storageFailures = StorageFailureRelay()
        keysAhead = KeysCommitter(keysPath: keysPath, logger: logger, storageFailed: { _ in })
        let files = FileManager.default
        guard files.fileExists(atPath: path) else { throw StoreError("there is no store at \(path)", kind: .missing) }
        // A copy with a -wal beside it holds commits only a WAL reader sees; reading it
        // immutable would skip them, so it is read as a live file (SQLite may add a -shm).
        // (An empty -wal, as a clean stop leaves, holds nothing: the copy is read immutable.)
        let mode: SQLiteConnection.Mode = Self.fileSize(path + "-wal") > 0 ? .readOnly : .immutableCopy
        readConnections = ReadConnections(mode: mode)
        let copyFolder = (path as NSString).deletingLastPathComponent
        do {
            main = try SQLiteConnection(path: path, mode: mode)
            if files.fileExists(atPath: keysPath) {
                // A hot journal (a commit cut short) must be rolled back by a reader that may write it.
                keys = try SQLiteConnection(path: keysPath, mode: Self.fileSize(keysPath + "-journal") > 0 ? .readOnly : .immutableCopy)
            } else {
                // Without its keys a copy still has its log: an empty in-memory stand-in opens nothing.
                keys = try SQLiteConnection(path: ":memory:")
                try StoreSchema.keys.migrate(keys)
            }
            if files.fileExists(atPath: keysPath) {
                try StoreIdentity.check(
                    main: try Self.identityIfStore(main), keys: try Self.identityIfStore(keys), path: path, keysPath: keysPath, masterKey: nil
                )
            }
            if try main.first("SELECT 1 FROM sqlite_master WHERE name = 'log_entries'") == nil {
                throw StoreError("\(path) is not a refex store (it has no disclosure log)", kind: .identity)
            }
            // A damaged copy is named as such, not half-read: a backup check must fail on it.
            if checkIntegrity, let problems = try main.quickCheck(limit: .seconds(60)), !problems.isEmpty {
                throw StoreError(Self.corruptionAdvice(path, problems.joined(separator: "; ")), kind: .corrupt)
            }
        } catch let error as StoreError {
            throw error
        } catch SQLiteError.cantOpen where mode == .readOnly && access(copyFolder.isEmpty ? "." : copyFolder, W_OK) != 0 {
            // SQLITE_CANTOPEN: reading a -wal needs a -shm beside it, which cannot be made here.
            throw StoreError(
                "the copy \(path) has a -wal beside it in a folder refex cannot write: SQLite reads a -wal only through a -shm file it makes beside it; copy the files (with the -wal) to a folder of your own, or make copies with `refex backup`",
                kind: .readOnlyCopy
            )
        } catch SQLiteError.readOnlyRollback {
            // SQLITE_READONLY_ROLLBACK: a hot journal that only a writer may roll back.
            let file = Self.fileSize(keysPath + "-journal") > 0 ? keysPath : path
            throw StoreError(
                "the copy \(file) has a hot journal beside it (\(file)-journal: it was copied in the middle of a commit); reading it needs that commit rolled back, which would change the copy: copy both files and the journal to a folder of your own and open the copy there once with `sqlite3 FILE 'PRAGMA quick_check'` (which rolls it back), or make copies with `refex backup`",
                kind: .readOnlyCopy
            )
        } catch let error as SQLiteError {
            throw Self.openingError(error, path: path, keysPath: keysPath)
        }
        chain = LogChain(lastSeq: 0, lastHash: "")
        queue.withLock { $0.running = false }
    }

    /// The last entry of the log; when retention has pruned every entry, the anchor it left (the
    /// last removed entry, at a signed checkpoint), so that the chain goes on from there; seq 0 and
    /// the genesis hash only for a log never written.
    private static func logHead(_ main: SQLiteConnection) throws -> CheckpointPolicy.LogHead {
        if let found = try main.first("SELECT seq, hash FROM log_entries ORDER BY seq DESC LIMIT 1") {
            let row = StrictRow(found, table: "log_entries", columns: ["seq", "hash"])
            return CheckpointPolicy.LogHead(seq: try row.integer(0), hash: try row.text(1))
        }
        if let anchor = try main.first("SELECT seq, hash FROM log_anchor WHERE id = 1") {
            let row = StrictRow(anchor, table: "log_anchor", columns: ["seq", "hash"])
            return CheckpointPolicy.LogHead(seq: try row.integer(0), hash: try row.text(1))
        }
        return CheckpointPolicy.LogHead(seq: 0, hash: LogEntry.genesisHash)
    }

    private static func fileSize(_ path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : 0
    }

    /// The identity in a database, nil when it has none; a database that is not SQLite, or is
    /// damaged in its first pages, throws.
    private static func identityIfStore(_ connection: SQLiteConnection) throws -> StoreIdentity? {
        try StoreIdentity.read(connection)
    }

    private static func openingError(_ error: SQLiteError, path: String, keysPath: String) -> StoreError {
        if SQLiteError.notADatabase ~= error.code {
            let file = error.message.contains(keysPath) ? keysPath : path
            return StoreError("cannot open the store \(file): file is not a database (check store.path and store.keysPath, or restore both files from a backup)", kind: .corrupt)
        }
        if error.isCorruption {
            return StoreError(corruptionAdvice(error.message.contains(keysPath) ? keysPath : path, error.message), kind: .corrupt)
        }
        return StoreError("cannot open the store \(path): \(error)")
    }

    private static func refuseIfNotADatabase(_ file: String, keysPath: String) throws {
        do {
            let connection = try SQLiteConnection(path: file, mode: .immutableCopy)
            _ = try connection.first("SELECT count(*) FROM sqlite_master")
        } catch where SQLiteError.notADatabase ~= error {
            throw openingError(SQLiteError(error.code, message: "\(file): \(error.message)"), path: file, keysPath: keysPath)
        } catch {
            // Anything else is met, and named, when the store is opened.
        }
    }

    /// A store whose identity looks wrong may instead be damaged where the identity is kept (a
    /// row SQLite cannot find in a broken page reads as no identity): on an identity refusal both
    /// files are checked (`quick_check`, bounded), and damage found is named instead.
    private static func damageBehind(_ error: StoreError, path: String, keysPath: String) -> StoreError {
        guard error.kind == .identity else { return error }
        for file in [keysPath, path] {
            guard let connection = try? SQLiteConnection(path: file, mode: .readOnly) else { continue }
            do {
                if let problems = try connection.quickCheck(limit: .seconds(20)), !problems.isEmpty {
                    return StoreError(corruptionAdvice(file, problems.joined(separator: "; ")), kind: .corrupt)
                }
            } catch where error.isCorruption {
                return StoreError(corruptionAdvice(file, error.message), kind: .corrupt)
            } catch {
                continue
            }
        }
        return error
    }

    static func corruptionAdvice(_ file: String, _ detail: String) -> String {
        "the database \(file) is damaged (\(detail.prefix(300))): stop refex and restore both store files from the last good backup (README: Restore); `refex log verify --store` on the damaged file shows how far its log is intact"
    }

    /// Creates both files of a new store under temporary names, records its identity in each,
    /// and renames them into place, keys first. Throws `StoreError`.
    package static func create(path: String, keysPath: String, masterKey: SymmetricKey?, now: Int64) throws {
        let files = FileManager.default
        for file in [path, keysPath] where files.fileExists(atPath: file) {
            throw StoreError("\(file) already exists: a store is created only where there is none", kind: .identity)
        }
        let partial = (main: path + ".creating", keys: keysPath + ".creating")
        func discard() {
            for file in [partial.main, partial.keys] { for extra in ["", "-wal", "-shm", "-journal"] { unlink(file + extra) } }
        }
        discard()
        let storeID = SecureRandom.bytes(16).hexString
        let identity = StoreIdentity(storeID: storeID, keyCheck: masterKey.map { StoreIdentity.keyCheck(masterKey: $0, storeID: storeID) } ?? "")
        do {
            do {
                // Rollback journal deleted after each commit (the store switches it to TRUNCATE when it opens).
                let keys = try SQLiteConnection(path: partial.keys)
                try StoreSchema.keys.migrate(keys)
                try keys.transaction { try identity.record(in: keys, now: now) }
                let main = try SQLiteConnection(path: partial.main)
                try main.query("PRAGMA journal_mode = WAL")
                try StoreSchema.main.migrate(main)
                try main.transaction { try identity.record(in: main, now: now) }
            }
            // Both connections are closed (the WAL folded in and removed): put the files in place.
            for (from, to) in [(partial.keys, keysPath), (partial.main, path)] {
                guard rename(from, to) == 0 else {
                    throw StoreError("cannot create \(to): \(String(cString: strerror(errno)))")
                }
            }
            syncFolders([path, keysPath])
        } catch let error as StoreError {
            discard()
            throw error
        } catch {
            discard()
            throw StoreError("cannot create the store \(path): \(error)")
        }
    }

    static func syncFolders(_ files: [String]) {
        for file in files {
            let folder = (file as NSString).deletingLastPathComponent
            let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else { continue }
            fsync(fd)
            Foundation.close(fd)
        }
    }

    /// Checks that the store at `path` and `keysPath` is one store and that `masterKey` is its key,
    /// reading only (for `refex config check`). Both files missing is fine (a first start creates
    /// them). Throws `StoreError` naming the file and what to do.
    package static func checkIdentity(path: String, keysPath: String, masterKey: SymmetricKey) throws {
        let files = FileManager.default
        let present = (files.fileExists(atPath: path), files.fileExists(atPath: keysPath))
        if present == (false, false) { return }
        if !present.1 {
            throw StoreError("the subject keys \(keysPath) are missing but the store \(path) is there: restore both files from the same backup", kind: .missing)
        }
        if !present.0 {
            throw StoreError("the store \(path) is missing but its subject keys \(keysPath) are there: restore both files from the same backup", kind: .missing)
        }
        do {
            let main = try SQLiteConnection(path: path, mode: .readOnly)
            let keys = try SQLiteConnection(path: keysPath, mode: .readOnly)
            let (mainIdentity, keysIdentity) = (try StoreIdentity.read(main), try StoreIdentity.read(keys))
            try StoreIdentity.check(main: mainIdentity, keys: keysIdentity, path: path, keysPath: keysPath, masterKey: masterKey)
            if mainIdentity != nil { try StoreIdentity.checkHalvesAgree(main: main, keys: keys, path: path, keysPath: keysPath) }
        } catch let error as StoreError {
            throw damageBehind(error, path: path, keysPath: keysPath)
        } catch let error as SQLiteError {
            throw openingError(error, path: path, keysPath: keysPath)
        }
    }

    package func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        if let copy { return try await writeToCopy(copy, body) }
        let essential = StoreWritePriority.current == .essential
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = WriteJob(body: { try body($0) }, continuation: continuation, essential: essential)
            let (accepted, starting) = queue.withLock { pending -> (Bool, Bool) in
                guard !pending.closing else { return (false, false) }
                pending.jobs.append(job)
                // Started under the same lock as the job is queued: `close()` then waits for the writer.
                let starting = !pending.started
                pending.started = true
                return (true, starting)
            }
            if starting { startThreads() }
            if accepted {
                wake.signal()
            } else {
                continuation.resume(throwing: StoreError.storeClosed)
            }
        }
        guard let result = value as? Result else { preconditionFailure("a write returned a value of another type") }
        return result
    }

    package func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            readers.async { [self] in
                do {
                    let (main, keys) = try copy == nil ? readConnections.open(path: path, keysPath: keysPath) : (self.main, self.keys)
                    try main.execute("BEGIN")
                    defer { try? main.execute("COMMIT") }
                    // A reader never appends to the log: its chain head is never used.
                    let transaction = SQLiteTransaction(now: clock(), main: main, keys: keys, chain: LogChain(lastSeq: 0, lastHash: ""))
                    do {
                        continuation.resume(returning: try body(transaction))
                    } catch let error as SQLiteError where error.isCorruption || error.isIOError {
                        continuation.resume(throwing: storageFailure(error, file: main.lastErrorCode.primary == error.code.primary ? path : keysPath))
                    }
                } catch let error as SQLiteError where error.isCorruption || error.isIOError {
                    continuation.resume(throwing: storageFailure(error, file: path))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// A copy's "write": run on the reader queue against the read-only files, with log entries
    /// sent to the live store (or dropped) and every other change refused by SQLite.
    private func writeToCopy<Result: Sendable>(
        _ copy: CopyAccess, _ body: @escaping @Sendable (any StoreTransaction) throws -> Result
    ) async throws -> Result {
        let (result, drafts) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Result, [LogEntryDraft]), any Error>) in
            readers.async { [self] in
                var drafts: [LogEntryDraft] = []
                do {
                    try main.execute("BEGIN")
                    defer { try? main.execute("COMMIT") }
                    let transaction = SQLiteTransaction(
                        now: clock(), main: main, keys: keys, chain: LogChain(lastSeq: 0, lastHash: ""),
                        redirectedLog: { draft, now in
                            drafts.append(draft)
                            return LogEntry(sealing: draft, seq: 0, time: now, prevHash: LogEntry.genesisHash)
                        }
                    )
                    let value = try body(transaction)
                    continuation.resume(returning: (value, drafts))
                } catch let error as SQLiteError where error.isReadOnly {
                    continuation.resume(throwing: StoreError(
                        "\(path) is a copy, opened read-only: nothing can be changed in it (give --config to act on the live store)",
                        kind: .readOnlyCopy
                    ))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        if let live = copy.live, !drafts.isEmpty {
            try await live.write { txn in
                for draft in drafts { try txn.appendLog(draft) }
            }
        }
        return result
    }

    /// Keys made ahead go to the keys database in a commit of their own (`KeysCommitter`), so
    /// that intake's commit syncs the main database alone. Not for a copy.
    package func storeSubjectKeysAhead(_ keys: [WrappedSubjectKey]) async throws -> Bool {
        guard copy == nil, !queue.withLock({ $0.closing }) else { return false }
        do {
            try await keysAhead.store(keys, now: clock().milliseconds)
        } catch let error as SQLiteError where error.isDiskFull || error.isIOError || error.isBusy {
            throw StoreError("the subject keys could not be stored ahead (\(error.code)); retry later", kind: .unavailable, retryAfterSeconds: 10)
        }
        return true
    }

    package var commitGroupTotals: CommitGroupTotals? { groupCounts.totals }

    package var storesSubjectKeysAhead: Bool { copy == nil }

    /// Whether this is a copy opened read-only (`init(copyAt:)`).
    package var isReadOnlyCopy: Bool { copy != nil }

    /// Finishes queued writes, then stops the writer; later writes fail.
    package func close() {
        let wasRunning = queue.withLock { pending -> Bool in
            pending.closing = true
            return pending.running && pending.started
        }
        guard wasRunning else { return }
        wake.signal()
        finished.wait()
        keysAhead.drain()
        checkpointStopped.signal()
        // The last checkpoint folds the WAL into the database file, so that a stopped store is
        // its two files alone (a copy of them is the whole store).
        if checkpointerFinished.wait(timeout: .now() + .seconds(10)) == .timedOut {
            logger.warning("the final WAL checkpoint did not finish; the WAL stays beside the store", [("path", path)])
        }
    }

    // MARK: Health

    /// What stops the store from taking writes now, in words for `/readyz` and the log; nil
    /// when it takes them.
    package var problem: String? {
        let (health, now) = (state.withLock { $0 }, ContinuousClock.now)
        if let corrupt = health.corrupt { return corrupt }
        guard let since = health.failingSince else { return nil }
        let seconds = (now - since).components.seconds
        let released = health.reserveReleased ? " (the disk reserve is in use: only erasures, withdrawals and restrictions are stored)" : ""
        return "the store cannot commit for \(seconds) s: \(health.failure ?? "unknown")\(released); refex accepts again by itself once space is freed or the disk recovers"
    }

    /// Whether commits have been failing for longer than `duration` (or the store is damaged):
    /// the watchdog then stops pinging, so that systemd restarts refex.
    package func hasBeenFailing(longerThan duration: Duration) -> Bool {
        state.withLock { health in
            guard let since = health.failingSince else { return false }
            return ContinuousClock.now - since > duration
        }
    }

    /// Whether a file is damaged (SQLITE_CORRUPT or SQLITE_NOTADB seen).
    package var isCorrupt: Bool { state.withLock { $0.corrupt != nil } }

    /// Records a damaged file: logged at critical once, every later write refused.
    private func markCorrupt(_ file: String, _ error: SQLiteError) {
        let first = state.withLock { health -> Bool in
            guard health.corrupt == nil else { return false }
            health.corrupt = Self.corruptionAdvice(file, error.message)
            return true
        }
        if first {
            logger.critical("the store is damaged: refex no longer acknowledges anything; restore from backup", [
                ("file", file), ("error", "\(error.code): \(error.message)"),
            ])
        }
    }

    private func markFailing(_ error: SQLiteError) {
        let reason = error.isDiskFull ? "the disk is full (SQLITE_FULL)" : "the disk refused a write (\(error.message), code \(error.code))"
        let first = state.withLock { health -> Bool in
            health.failure = reason
            guard health.failingSince == nil else { return false }
            health.failingSince = ContinuousClock.now
            return true
        }
        if first { logger.critical("store commits are failing; writes get 503 until they succeed again", [("reason", reason)]) }
    }

    private func markRecovered() {
        let was = state.withLock { health -> ContinuousClock.Instant? in
            defer { health.failingSince = nil; health.failure = nil }
            return health.failingSince
        }
        if let was {
            logger.notice("store commits succeed again", [("failed_for_seconds", String((ContinuousClock.now - was).components.seconds))])
        }
    }

    /// The error a caller gets for a storage failure seen on a read.
    private func storageFailure(_ error: SQLiteError, file: String) -> StoreError {
        if error.isCorruption {
            markCorrupt(file, error)
            return StoreError("the store is damaged; refex has stopped acknowledging until it is restored", kind: .corrupt, retryAfterSeconds: 300)
        }
        return StoreError("the store could not be read (I/O error); retry shortly", kind: .unavailable)
    }

    /// Whether the writer finishes an empty write within `timeout`: false means it is stuck.
    package func writerIsResponsive(within timeout: Duration) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await self.write { _ in true }
            done.signal()
        }
        // Whole milliseconds of the timeout, fractions included (a half-second watchdog window is 500 ms, not 0).
        let milliseconds = Int(timeout.wholeMilliseconds)
        return done.wait(timeout: .now() + .milliseconds(milliseconds)) == .success
    }

    /// Whether an empty write commits within `timeout`, without blocking a thread while waiting.
    package func isWritable(within timeout: Duration) async -> Bool {
        let decision = OneShot()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            decision.arm(continuation)
            Task { [self] in decision.resolve((try? await write { _ in true }) ?? false) }
            Task {
                try? await Task.sleep(for: timeout)
                decision.resolve(false)
            }
        }
    }

    /// Writes queued for the writer and not yet taken (tests that build a group while it is stalled).
    package var queuedWritesForTesting: Int { queue.withLock { $0.jobs.count } }

    /// For tests of the watchdog: while true, the writer takes no work.
    package func stallForTesting(_ stalled: Bool) {
        stalledForTesting.store(stalled, ordering: .releasing)
        if !stalled { wake.signal() }
    }

    // MARK: Integrity

    /// Runs to its end, on its own connection and thread, the integrity check that did not finish
    /// within its limit at start; damage found then is handled as damage seen at run time.
    private func finishIntegrityCheckInBackground() {
        let thread = Thread { [self] in
            guard let connection = try? SQLiteConnection(path: path, mode: .readOnly) else { return }
            do {
                if let problems = try connection.quickCheck(limit: .seconds(86_400)), !problems.isEmpty {
                    markCorrupt(path, SQLiteError(SQLiteError.corrupt, message: problems.prefix(3).joined(separator: "; ")))
                }
            } catch let error as SQLiteError where error.isCorruption {
                markCorrupt(path, error)
            } catch {
                logger.warning("the background integrity check failed to run", [("error", "\(error)")])
            }
        }
        thread.name = "refex-store-check"
        thread.start()
    }

    // MARK: WAL checkpoints

    /// Copies committed WAL frames into the database file on its own connection, so that the
    /// writer's commits never wait for it (SQLite's automatic checkpoint would run inside them).
    private func runCheckpointer() {
        guard let connection = try? SQLiteConnection(path: path, mode: .readWriteExisting) else {
            logger.error("cannot open the store for checkpoints; the WAL will grow until restart")
            checkpointerFinished.signal()
            return
        }
        _ = try? connection.execute("PRAGMA synchronous = FULL")
        // A WAL frame is a page and its 24-byte header (after the WAL's own 32-byte header).
        let frameBytes = ((try? connection.first("PRAGMA page_size"))??.integer(0) ?? 4096) + 24
        var pause = DispatchTimeInterval.milliseconds(500)
        while !queue.withLock({ $0.closing }) {
            _ = checkpointStopped.wait(timeout: .now() + pause)
            do {
                // PASSIVE never blocks the writer; frames in use by a reader wait for the next round.
                // Its answer is (busy, frames in the WAL, frames folded in).
                var answer = try connection.first("PRAGMA wal_checkpoint(PASSIVE)")
                // What the WAL holds since it last started again, not its file's size: the file is
                // reused from its beginning and keeps its size (see `mainSettings`).
                let held = (answer?.integer(1) ?? 0) * frameBytes
                if held > walRestartBytes {
                    // A second round copies only what committed during the first, so the writer's
                    // fold (`restartWALIfLarge`) is left the last few commits, not a round's worth.
                    answer = try connection.first("PRAGMA wal_checkpoint(PASSIVE)")
                    walFoldAsked.store(true, ordering: .releasing)
                }
                let behind = (answer?.integer(1) ?? 0) - (answer?.integer(2) ?? 0)
                // Under sustained writes, keep close behind the writer (ten rounds a second, each with
                // an fsync of the database, rather than fifty): what is left for its own fold stays
                // small. Past half the limit, look ten times a second too, so that the WAL starts
                // again within 100 ms of writes past the limit.
                pause = behind > 1024 || held > walRestartBytes / 2 ? .milliseconds(100) : .milliseconds(500)
            } catch where error.isCorruption {
                markCorrupt(path, error)
            } catch {
                // A full disk fails checkpoints too; the writer's probe reports it.
                logger.debug("WAL checkpoint failed", [("error", "\(error)")])
            }
        }
        _ = try? connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpointerFinished.signal()
    }

    // MARK: The writer

    private func runWriter() {
        while true {
            let failing = state.withLock { $0.failingSince != nil && $0.corrupt == nil }
            if failing {
                // Probe once a second while commits fail, so that refex recovers with no traffic.
                _ = wake.wait(timeout: .now() + .seconds(1))
            } else {
                wake.wait()
            }
            while stalledForTesting.load(ordering: .acquiring) { usleep(10_000) }
            let (batch, closing) = queue.withLock { pending -> ([WriteJob], Bool) in
                let count = min(pending.jobs.count, SQLiteStore.maxBatch)
                let batch = Array(pending.jobs.prefix(count))
                pending.jobs.removeFirst(count)
                if !pending.jobs.isEmpty { wake.signal() }
                return (batch, pending.closing && pending.jobs.isEmpty)
            }
            if !batch.isEmpty || failing { commit(batch) }
            if !batch.isEmpty { restartWALIfLarge() }
            if closing {
                queue.withLock { $0.running = false }
                finished.signal()
                return
            }
        }
    }

    /// Under sustained writes the checkpointer never finds the WAL wholly folded in at the moment
    /// a commit begins (each round ends behind frames committed during it), so SQLite never starts
    /// the WAL again from its beginning and the file grows without bound. Between commits, the
    /// writer is the one connection that can change the WAL: when the WAL holds more than
    /// `walRestartBytes`, it folds the rest in itself (PASSIVE: a reader's frames wait), and the
    /// next commit starts the WAL again from its beginning. At most ten times a second, and only
    /// after the writes of the commit before it were answered.
    ///
    /// The fold holds up every commit behind it for its copy and the database's fsync, so it waits
    /// for the checkpointer's word that the WAL holds more than `walRestartBytes` and that it has
    /// just caught up (`walFoldAsked`): then it copies the last few commits' pages, not up to a
    /// round's worth (at 500 referrals/s on a large store, 20–30 ms every few seconds before,
    /// the open loop's p99). When the file is past twice the limit (a checkpointer that fails or
    /// lags) it folds without waiting, so the bound holds regardless.
    private func restartWALIfLarge() {
        let now = ContinuousClock.now
        if let tried = walRestartTriedAt, now - tried < .milliseconds(100) { return }
        let asked = walFoldAsked.exchange(false, ordering: .acquiringAndReleasing)
        guard asked || Self.fileSize(path + "-wal") > 2 * walRestartBytes else { return }
        walRestartTriedAt = now
        do {
            // (busy, frames in the WAL, frames folded in); busy: the checkpointer is mid-round.
            // Then the fold is tried again after the next commit, the ask kept.
            if try main.first("PRAGMA wal_checkpoint(PASSIVE)")?.integer(0) == 1 {
                walRestartTriedAt = nil
                if asked { walFoldAsked.store(true, ordering: .releasing) }
            }
        } catch where error.isCorruption {
            markCorrupt(path, error)
        } catch {
            logger.debug("WAL fold before restart failed", [("error", "\(error)")])
        }
    }

    private enum Attempt {
        case committed([Result<any Sendable, any Error>])
        case failed(any Error)
    }

    private func commit(_ batch: [WriteJob]) {
        let health = state.withLock { $0 }
        if let corrupt = health.corrupt {
            for job in batch {
                job.continuation.resume(throwing: StoreError("the store is damaged and is not written to: \(corrupt)", kind: .corrupt, retryAfterSeconds: 300))
            }
            return
        }
        var jobs = batch
        if health.reserveReleased {
            // On the reserve: only what must not wait (erasure, withdrawal, restriction) is stored.
            jobs = batch.filter(\.essential)
            for job in batch where !job.essential {
                job.continuation.resume(throwing: StoreError("the disk is full: refex stores nothing new until space is freed", kind: .unavailable, retryAfterSeconds: 10))
            }
        }
        let probing = health.failingSince != nil
        if probing && health.reserveReleased {
            // Accept normally again only with the reserve back in place.
            if let reserve, reserve.retake() {
                state.withLock { $0.reserveReleased = false }
                logger.notice("the disk reserve is allocated again", [("path", reserve.path)])
            }
        }
        var outcome = attempt(jobs, probe: probing)
        // Released only when its own file system is the one short of space: with the keys file on
        // another (store.keysPath), releasing it frees nothing there and would be taken back at once.
        if case .failed(let error) = outcome, let sqlite = error as? SQLiteError, sqlite.isDiskFull,
           let reserve, !state.withLock({ $0.reserveReleased }), !reserve.hasRoomToSpare {
            markFailing(sqlite)
            reserve.release()
            state.withLock { $0.reserveReleased = true }
            logger.critical("the disk is full: released the reserve; only erasures, withdrawals and restrictions are stored until space is freed", [
                ("path", reserve.path),
            ])
            // The writes of this commit that must not wait get one more try on the reserve.
            let essential = jobs.filter(\.essential)
            for job in jobs where !job.essential {
                job.continuation.resume(throwing: StoreError("the disk is full: refex stores nothing new until space is freed", kind: .unavailable, retryAfterSeconds: 10))
            }
            jobs = essential
            outcome = jobs.isEmpty ? .committed([]) : attempt(jobs, probe: true)
        }
        switch outcome {
        case .committed(let outcomes):
            if probing && !state.withLock({ $0.reserveReleased }) { markRecovered() }
            // A reserve deleted from outside (an operator making room) is put back while there is room.
            if !probing, let reserve, !state.withLock({ $0.reserveReleased }), !reserve.isInPlace, reserve.take() {
                logger.warning("the disk reserve was missing beside the store; allocated it again", [("path", reserve.path)])
            }
            for (job, outcome) in zip(jobs, outcomes) { job.continuation.resume(with: outcome) }
        case .failed(let error):
            let failure: StoreError
            if let sqlite = error as? SQLiteError, sqlite.isCorruption {
                markCorrupt(main.lastErrorCode.primary == sqlite.code.primary ? path : keysPath, sqlite)
                failure = StoreError("the store is damaged; refex has stopped acknowledging until it is restored", kind: .corrupt, retryAfterSeconds: 300)
            } else if let sqlite = error as? SQLiteError, sqlite.isDiskFull || sqlite.isIOError {
                markFailing(sqlite)
                failure = StoreError("the store cannot commit now (\(sqlite.isDiskFull ? "disk full" : "I/O error")); retry later", kind: .unavailable, retryAfterSeconds: 10)
            } else if let sqlite = error as? SQLiteError, sqlite.isBusy {
                failure = StoreError("the store is locked by another process; retry shortly", kind: .unavailable, retryAfterSeconds: 2)
            } else {
                logger.error("store commit failed", [("error", "\(error)"), ("writes", String(jobs.count))])
                failure = StoreError("the store could not commit: \(error)", kind: .unavailable)
            }
            for job in jobs { job.continuation.resume(throwing: failure) }
        }
    }

    /// One commit of `jobs`, and with `probe` a real write that proves the disk takes writes
    /// again. On any failure of the commit itself both connections are left out of any
    /// transaction (rolled back, or reopened when a rollback cannot be done).
    ///
    /// The lean pattern first: every job in one transaction with no savepoint (a savepoint per
    /// write costs about a third of the storage's rate at 64 writes a commit). Only when a job
    /// throws is the whole group rolled back and run again, each job in its own savepoint, so
    /// that the failing one is undone alone. Bodies are pure functions of their transaction, so
    /// running one again is running it once. The keys database joins the transaction only when
    /// a job changes it (`SQLiteTransaction.writingKeys`); keys commit first, as before.
    private func attempt(_ jobs: [WriteJob], probe: Bool) -> Attempt {
        do {
            var run = try runGroup(jobs, savepoints: false)
            if run == nil {
                rollBackGroup()
                run = try runGroup(jobs, savepoints: true)
            }
            guard let (outcomes, deferredIndex, takenFromAhead) = run else { preconditionFailure("a group run with savepoints always finishes") }
            if let checkpointPolicy {
                // The log's signing policy is the domain's (Exchange): the store only gives it the head, inside the commit.
                let transaction = SQLiteTransaction(now: clock(), main: main, keys: keys, chain: chain, keysWritable: openKeysTransaction)
                try checkpointPolicy.signIfDue(head: .init(seq: chain.lastSeq, hash: chain.lastHash), in: transaction)
            }
            if probe {
                let now = clock().milliseconds
                try openKeysTransaction()
                try keys.query("UPDATE store_identity SET probed_at = ? WHERE id = 1", [now])
                try main.query("UPDATE store_identity SET probed_at = ? WHERE id = 1", [now])
            }
            let indexed = keysAhead.takeIndexed()
            if !indexed.isEmpty {
                // Entries now in the keys database: their referrals no longer wait (ids only).
                let transaction = SQLiteTransaction(now: clock(), main: main, keys: keys, chain: chain)
                try transaction.clearAwaitingIndex(referralIDs: indexed)
            }
            // Keys first: a referral must never be durable without the key that opens it.
            if keys.isInTransaction { try keys.execute("COMMIT") }
            try main.execute("COMMIT")
            // Pages written since the last commit (a failed one's spilled pages count here).
            groupCounts.add(jobs.count, pages: main.takePagesWritten() + keys.takePagesWritten())
            keysAhead.storedAhead.remove(takenFromAhead)
            if !deferredIndex.isEmpty { keysAhead.index(deferredIndex) }
            return .committed(outcomes)
        } catch {
            leaveTransactions()
            return .failed(error)
        }
    }

    /// Runs every job of a group in one open transaction of the main database. Without
    /// `savepoints`, returns nil as soon as a job throws (the caller rolls back and runs the group
    /// again with them); with them, a job that throws is undone alone and its error is its outcome.
    /// Storage errors (a full disk, an I/O error, damage) fail the group: SQLite may have rolled
    /// back the whole transaction.
    private func runGroup(
        _ jobs: [WriteJob], savepoints: Bool
    ) throws -> ([Result<any Sendable, any Error>], [SubjectIndexEntry], [String])? {
        try main.execute("BEGIN IMMEDIATE")
        // Host commands (refex log, outbox retry) may have appended since: take the head now,
        // under the write lock, so that the chain stays whole across processes.
        let head = try Self.logHead(main)
        (chain.lastSeq, chain.lastHash) = (head.seq, head.hash)
        var outcomes: [Result<any Sendable, any Error>] = []
        outcomes.reserveCapacity(jobs.count)
        var deferredIndex: [SubjectIndexEntry] = []
        var takenFromAhead: [String] = []
        for job in jobs {
            let jobHead = (chain.lastSeq, chain.lastHash)
            var keysSavepoint = false
            let keysWritable: () throws -> Void = { [self] in
                try openKeysTransaction()
                if savepoints && !keysSavepoint {
                    try keys.query("SAVEPOINT job")
                    keysSavepoint = true
                }
            }
            do {
                if savepoints { try main.query("SAVEPOINT job") }
                let transaction = SQLiteTransaction(
                    now: clock(), main: main, keys: keys, chain: chain, keysWritable: keysWritable, storedAhead: keysAhead.storedAhead
                )
                let value = try job.body(transaction)
                if keysSavepoint { try keys.query("RELEASE job") }
                if savepoints { try main.query("RELEASE job") }
                deferredIndex += transaction.deferredIndex
                takenFromAhead += transaction.keysTakenFromAhead
                outcomes.append(.success(value))
            } catch {
                if let sqlite = error as? SQLiteError, sqlite.isDiskFull || sqlite.isIOError || sqlite.isCorruption { throw sqlite }
                guard savepoints else { return nil }
                if keysSavepoint { try? keys.execute("ROLLBACK TO job; RELEASE job") }
                try? main.execute("ROLLBACK TO job; RELEASE job")
                guard main.isInTransaction, !keysSavepoint || keys.isInTransaction else { throw error }
                (chain.lastSeq, chain.lastHash) = jobHead
                outcomes.append(.failure(error))
            }
        }
        return (outcomes, deferredIndex, takenFromAhead)
    }

    /// Opens the writer's transaction on the keys database, if not open yet (after the main
    /// database's: every process takes the two write locks in this order).
    private func openKeysTransaction() throws {
        if !keys.isInTransaction { try keys.execute("BEGIN IMMEDIATE") }
    }

    /// Undoes a lean run that a job failed, so that the group can run again with savepoints.
    private func rollBackGroup() {
        if keys.isInTransaction { try? keys.execute("ROLLBACK") }
        if main.isInTransaction { try? main.execute("ROLLBACK") }
    }

    /// After a failed commit: both connections out of any transaction, whatever state SQLite left
    /// them in (a rollback that fails too is answered by reopening the connection).
    private func leaveTransactions() {
        if keys.isInTransaction { try? keys.execute("ROLLBACK") }
        if main.isInTransaction { try? main.execute("ROLLBACK") }
        if keys.isInTransaction, let fresh = try? reopen(keysPath, journal: "TRUNCATE") {
            logger.warning("reopened the subject-key database after a rollback failed", [("path", keysPath)])
            keys = fresh
        }
        if main.isInTransaction, let fresh = try? reopen(path, journal: "WAL") {
            logger.warning("reopened the store database after a rollback failed", [("path", path)])
            main = fresh
        }
    }

    /// The writer's settings on the main database: durable commits, no automatic checkpoint
    /// inside them (the checkpointer and `restartWALIfLarge` fold the WAL), and a WAL file cut
    /// back to twice `walRestartBytes` when it starts again from its beginning past that size.
    /// Not to `walRestartBytes` itself: the WAL restarts a little past it, and cutting those few
    /// MiB off the file again at every restart cost the commit that did it 8–17 ms (`ftruncate`
    /// waits for the pages it drops); a file kept at its size is reused from its beginning.
    private static func mainSettings(walRestartBytes: Int) -> String {
        // temp_store: statement journals and sorts stay in memory (nothing of them reaches a disk).
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; "
            + "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = \(2 * walRestartBytes);"
    }

    private func reopen(_ file: String, journal: String) throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: file, mode: .readWriteExisting)
        try connection.query("PRAGMA journal_mode = \(journal)")
        try connection.execute(
            journal == "WAL" ? Self.mainSettings(walRestartBytes: walRestartBytes) : "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;"
        )
        return connection
    }
}

/// Forwards a storage failure to a handler connected after it was made.
final class StorageFailureRelay: Sendable {
    private let handler = Mutex<(@Sendable (SQLiteError) -> Void)?>(nil)

    func connect(_ handler: @escaping @Sendable (SQLiteError) -> Void) {
        self.handler.withLock { $0 = handler }
    }

    func report(_ error: SQLiteError) {
        handler.withLock { $0 }?(error)
    }
}

/// How much a write matters when the disk is nearly full.
package enum StoreWritePriority: Sendable {
    /// Refused (503) while the store runs on its disk reserve.
    case normal
    /// Erasure, withdrawal, restriction: stored on the reserve when nothing else is.
    case essential

    /// The priority of the writes made by the current task (`$current.withValue(.essential) { … }`).
    @TaskLocal package static var current: StoreWritePriority = .normal
}

/// For a copy opened read-only: where its readings are recorded.
final class CopyAccess: Sendable {
    let live: (any ExchangeStore)?
    init(live: (any ExchangeStore)?) { self.live = live }
}

/// A file of `bytes` allocated beside the store, released to make room on a full disk.
final class StoreReserve: Sendable {
    let path: String
    let bytes: Int

    init(path: String, bytes: Int) {
        self.path = path
        self.bytes = bytes
    }

    /// Whether the reserve file is there at its full size.
    var isInPlace: Bool {
        var status = stat()
        return stat(path, &status) == 0 && Int(status.st_size) >= bytes
    }

    /// Allocates the reserve (when it is not there yet); false when the disk has no room for it.
    func take() -> Bool {
        var status = stat()
        if stat(path, &status) == 0 && Int(status.st_size) >= bytes { return true }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // posix_fallocate reserves real blocks (a sparse file would free nothing when deleted).
        guard posix_fallocate(fd, 0, off_t(bytes)) == 0, fsync(fd) == 0 else {
            unlink(path)
            return false
        }
        return true
    }

    /// Allocates the reserve again after a full disk, only once there is room for it twice over:
    /// taking back the very space just released would fill the disk again at once.
    func retake() -> Bool {
        guard hasRoomToSpare else { return false }
        return take()
    }

    /// Whether the reserve's file system has room for it three times over.
    var hasRoomToSpare: Bool {
        let folder = (path as NSString).deletingLastPathComponent
        var space = statvfs()
        return statvfs(folder.isEmpty ? "." : folder, &space) == 0 && UInt64(space.f_bavail) * UInt64(space.f_frsize) >= UInt64(bytes) * 3
    }

    func release() {
        unlink(path)
    }
}

/// One queued write.
final class WriteJob: @unchecked Sendable {
    // Created on the caller's thread, then used only by the writer.
    let body: (any StoreTransaction) throws -> any Sendable
    let continuation: CheckedContinuation<any Sendable, any Error>
    let essential: Bool

    init(body: @escaping (any StoreTransaction) throws -> any Sendable, continuation: CheckedContinuation<any Sendable, any Error>, essential: Bool) {
        self.body = body
        self.continuation = continuation
        self.essential = essential
    }
}

/// A continuation resumed by whichever answer comes first.
final class OneShot: Sendable {
    private let state = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func arm(_ continuation: CheckedContinuation<Bool, Never>) {
        state.withLock { $0 = continuation }
    }

    func resolve(_ value: Bool) {
        state.withLock { $0.take() }?.resume(returning: value)
    }
}

/// The reader's connections, opened on first use on the reader queue and used only there.
final class ReadConnections: @unchecked Sendable {
    private var connections: (SQLiteConnection, SQLiteConnection)?
    private let mode: SQLiteConnection.Mode

    init(mode: SQLiteConnection.Mode) { self.mode = mode }

    func open(path: String, keysPath: String) throws -> (SQLiteConnection, SQLiteConnection) {
        if let connections { return connections }
        let main = try SQLiteConnection(path: path, mode: mode)
        // Long scans (log verification, exports) read through memory maps instead of read(2) calls.
        try main.query("PRAGMA mmap_size = 1073741824")
        let keys = try SQLiteConnection(path: keysPath, mode: mode)
        connections = (main, keys)
        return (main, keys)
    }
}
