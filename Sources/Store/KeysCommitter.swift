import Exchange
import Foundation
import Logging
import SQLite
import Synchronization

/// Commits to the keys database beside the writer, on its own connection and queue, so that
/// intake's commit touches the main database alone (issue 17): subject keys made ahead
/// (`storeSubjectKeysAhead`), and the blind-index entries of referrals already committed.
///
/// Why this keeps the promises:
/// - Nothing accepted is lost: a key is committed here before it is handed out, so every
///   subject the main database holds has its key durable first, as when both shared a commit
///   (keys first). The writer checks the key is there before it stores the subject.
/// - Crypto-shredding: erasure still deletes the subject's key row (and its index entries) in
///   the writer's keys transaction. Index entries are written here only while their subject's
///   key is there (checked inside this commit, under the keys database's write lock), so an
///   entry never outlives an erasure that raced with it.
/// - Backups copy the main database first, then the keys: every key a copied subject needs was
///   committed before that subject, so it is in the later keys copy (see `backup`).
/// - A key is handed out once: the pool of keys made ahead is in memory only (Exchange's
///   `SubjectKeyPool`), taken from under a lock, and never read back from the file. Keys left
///   unassigned by a stop or a crash, including one assigned in a main commit that never
///   finished, stay unassigned for good: random keys for random ids that no answer ever named,
///   that open nothing committed (what a crashed commit wrote is not part of the database).
final class KeysCommitter: @unchecked Sendable {
    // @unchecked: `connection` is used only on `queue`; `pending` is a Mutex.
    private let keysPath: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "refex.store.keys")
    private var connection: SQLiteConnection?
    private let pending = Mutex<Pending>(Pending())

    private struct Pending {
        var entries: [SubjectIndexEntry] = []
        var scheduled = false
        /// Referrals whose entries are committed, for the writer to clear from `subject_index_pending`.
        var indexed: [String] = []
    }

    /// Told of a commit here that failed for the disk's sake (full, I/O error, damage), so that the
    /// store pauses as when its own commit fails: every write answers 503 until a probe commits.
    private let storageFailed: @Sendable (SQLiteError) -> Void

    init(keysPath: String, logger: Logger, storageFailed: @escaping @Sendable (SQLiteError) -> Void) {
        self.keysPath = keysPath
        self.logger = logger
        self.storageFailed = storageFailed
    }

    /// The ids of keys stored ahead by this process and not yet given to a committed subject: the
    /// writer checks a new subject's key against it without reading the keys database (a read
    /// there would wait whenever this queue commits). Keys stored by an earlier process are not in
    /// it, so they are never given to a subject (see the type's comment).
    let storedAhead = StoredAheadKeys()

    /// Stores `keys` in one durable commit of the keys database.
    func store(_ keys: [WrappedSubjectKey], now: Int64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async { [self] in
                do {
                    try commit { connection in
                        for key in keys {
                            try connection.query(
                                "INSERT INTO subject_keys (subject_id, wrapped, created_at) VALUES (?, ?, ?)", [key.subjectID, key.wrapped, now]
                            )
                        }
                    }
                    storedAhead.add(keys.map(\.subjectID))
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// How long entries wait to share a commit: at most ten commits of the keys database a second,
    /// whatever the intake rate, so that its syncs do not compete with the main database's.
    /// A search does not wait for them (it indexes what is still pending itself).
    static let indexDelay: DispatchTimeInterval = .milliseconds(100)

    /// Writes `entries` soon (within `indexDelay`), in a commit they share with others.
    func index(_ entries: [SubjectIndexEntry]) {
        let schedule = pending.withLock { state -> Bool in
            state.entries += entries
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { queue.asyncAfter(deadline: .now() + Self.indexDelay) { [self] in flushIndex() } }
    }

    /// The referrals whose entries were committed since the last call.
    func takeIndexed() -> [String] {
        pending.withLock { state in
            defer { state.indexed = [] }
            return state.indexed
        }
    }

    /// Writes what was handed over now, waits for it (or for its failure), and closes the
    /// connection (a stopped store holds its files open no longer).
    func drain() {
        queue.sync {
            flushIndex()
            connection = nil
        }
    }

    private func flushIndex() {
        let entries = pending.withLock { state -> [SubjectIndexEntry] in
            defer { state.entries = []; state.scheduled = false }
            return state.entries
        }
        guard !entries.isEmpty else { return }
        do {
            try commit { connection in
                for entry in entries {
                    // Only while the subject's key is there: an erasure that came first has deleted it.
                    try connection.query(
                        """
                        INSERT OR IGNORE INTO subject_index (kind, digest, subject_id, referral_id)
                        SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM subject_keys WHERE subject_id = ?3)
                        """,
                        [entry.kind.rawValue, entry.digest, entry.subjectID, entry.referralID]
                    )
                }
            }
            let referrals = Array(Set(entries.map(\.referralID)))
            pending.withLock { $0.indexed += referrals }
        } catch {
            // The referrals stay in `subject_index_pending`: the next search or backfill indexes them.
            logger.warning("writing blind-index entries failed; they are made again before the next search", [
                ("error", "\(error)"), ("referrals", String(Set(entries.map(\.referralID)).count)),
            ])
        }
    }

    /// One transaction on this queue's connection, rolled back if `body` or the commit fails.
    private func commit(_ body: (SQLiteConnection) throws -> Void) throws {
        let connection = try open()
        do {
            try connection.execute("BEGIN IMMEDIATE")
            try body(connection)
            try connection.execute("COMMIT")
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            if connection.isInTransaction { self.connection = nil }
            if let sqlite = error as? SQLiteError, sqlite.isDiskFull || sqlite.isIOError || sqlite.isCorruption { storageFailed(sqlite) }
            throw error
        }
    }

    private func open() throws -> SQLiteConnection {
        if let connection { return connection }
        let opened = try SQLiteConnection(path: keysPath, mode: .readWriteExisting)
        try opened.query("PRAGMA journal_mode = TRUNCATE")
        try opened.execute("PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;")
        connection = opened
        return opened
    }
}

/// Commits and the writes they held, counted by the writer.
final class CommitGroupCounter: Sendable {
    private let commits = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)
    private let pages = Atomic<Int>(0)

    /// One commit of `count` writes that wrote `pages` database pages.
    func add(_ count: Int, pages written: Int) {
        writes.wrappingAdd(count, ordering: .relaxed)
        pages.wrappingAdd(written, ordering: .relaxed)
        commits.wrappingAdd(1, ordering: .relaxed)
    }

    var totals: CommitGroupTotals {
        CommitGroupTotals(
            commits: commits.load(ordering: .relaxed), writes: writes.load(ordering: .relaxed), pages: pages.load(ordering: .relaxed)
        )
    }
}

/// Subject ids whose keys this process stored ahead and no committed subject has taken yet.
final class StoredAheadKeys: Sendable {
    private let ids = Mutex<Set<String>>([])

    func add(_ new: [String]) {
        ids.withLock { $0.formUnion(new) }
    }

    func contains(_ id: String) -> Bool {
        ids.withLock { $0.contains(id) }
    }

    /// Forgets ids now named by committed subjects.
    func remove(_ taken: [String]) {
        guard !taken.isEmpty else { return }
        ids.withLock { $0.subtract(taken) }
    }
}
