import Crypto
import Exchange
import Foundation
import Logging
import SQLite
import Synchronization

/// The embedded store: SQLite in WAL mode with `synchronous=FULL`, one writer thread that
/// commits concurrent writes together (group commit), and subject keys in a separate file.
///
/// `write` returns only after its commit is durable; a failing write is rolled back to its
/// savepoint without disturbing the others in the same commit.
package final class SQLiteStore: ExchangeStore, @unchecked Sendable {
    // @unchecked: the connections and `chain` are used only on the writer thread; `queue` is a Mutex.

    /// Writes that share one commit, at most.
    static let maxBatch = 256

    package let path: String
    package let keysPath: String
    private let main: SQLiteConnection
    private let keys: SQLiteConnection
    private let chain: LogChain
    private let clock: @Sendable () -> Timestamp
    private let checkpointPolicy: CheckpointPolicy?
    private let logger: Logger
    private let queue = Mutex<Pending>(Pending())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let stalledForTesting = Atomic<Bool>(false)
    private let readers = DispatchQueue(label: "refex.store.reader")
    private let readConnections = ReadConnections()

    private struct Pending {
        var jobs: [WriteJob] = []
        var closing = false
        var running = true
    }

    /// Opens (creating and migrating as needed) the store at `path`, with subject keys at `keysPath`.
    /// Throws `StoreError` naming the file and what is wrong.
    package init(
        path: String, keysPath: String, logger: Logger, checkpoints: CheckpointPolicy? = nil,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp(Date()) }
    ) throws {
        self.checkpointPolicy = checkpoints
        self.path = path
        self.keysPath = keysPath
        self.clock = clock
        self.logger = logger
        do {
            main = try SQLiteConnection(path: path)
            try main.query("PRAGMA journal_mode = WAL")
            try main.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA cache_size = -65536;")
            try StoreSchema.main.migrate(main)
            keys = try SQLiteConnection(path: keysPath)
            try keys.query("PRAGMA journal_mode = DELETE")
            try keys.execute("PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;")
            try StoreSchema.keys.migrate(keys)
            let head = try main.first("SELECT seq, hash FROM log_entries ORDER BY seq DESC LIMIT 1")
            chain = LogChain(lastSeq: head?.integer(0) ?? 0, lastHash: head?.text(1) ?? LogEntry.genesisHash)
        } catch {
            throw StoreError("cannot open the store \(path): \(error)")
        }
        let thread = Thread { [self] in runWriter() }
        thread.name = "refex-store-writer"
        thread.stackSize = 4 << 20
        thread.start()
    }

    package func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = WriteJob(body: { try body($0) }, continuation: continuation)
            let accepted = queue.withLock { pending -> Bool in
                guard !pending.closing else { return false }
                pending.jobs.append(job)
                return true
            }
            if accepted {
                wake.signal()
            } else {
                continuation.resume(throwing: StoreError("the store is closed"))
            }
        }
        guard let result = value as? Result else { preconditionFailure("a write returned a value of another type") }
        return result
    }

    package func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            readers.async { [self] in
                do {
                    let (main, keys) = try readConnections.open(path: path, keysPath: keysPath)
                    try main.execute("BEGIN")
                    defer { try? main.execute("COMMIT") }
                    // A reader never appends to the log: its chain head is never used.
                    let transaction = SQLiteTransaction(now: clock(), main: main, keys: keys, chain: LogChain(lastSeq: 0, lastHash: ""))
                    continuation.resume(returning: try body(transaction))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Finishes queued writes, then stops the writer; later writes fail.
    package func close() {
        let wasRunning = queue.withLock { pending -> Bool in
            pending.closing = true
            return pending.running
        }
        guard wasRunning else { return }
        wake.signal()
        finished.wait()
    }

    /// Whether the writer finishes an empty write within `timeout`: false means it is stuck.
    package func writerIsResponsive(within timeout: Duration) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await self.write { _ in true }
            done.signal()
        }
        return done.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .success
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

    /// For tests of the watchdog: while true, the writer takes no work.
    package func stallForTesting(_ stalled: Bool) {
        stalledForTesting.store(stalled, ordering: .releasing)
        if !stalled { wake.signal() }
    }

    /// Forces a checkpoint check now (for the daemon's timer: checkpoints are due by time too).
    package func checkpointIfDue() async throws {
        _ = try await write { _ in true }
    }

    // MARK: The writer

    /// Signs the head of the chain when enough entries or time have passed since the last checkpoint.
    private func signCheckpointIfDue() throws {
        guard let policy = checkpointPolicy, chain.lastSeq > 0 else { return }
        let last = try main.first("SELECT seq, time FROM checkpoints ORDER BY seq DESC LIMIT 1")
        let lastSeq = last?.integer(0) ?? 0
        let lastTime = last?.integer(1) ?? 0
        guard chain.lastSeq > lastSeq else { return }
        let now = clock()
        let everyMs = policy.every.components.seconds * 1000
        guard chain.lastSeq - lastSeq >= policy.everyEntries || now.milliseconds - lastTime >= everyMs else { return }
        let checkpoint = try Checkpoint(seq: chain.lastSeq, hash: chain.lastHash, time: now, key: policy.key)
        try main.query(
            "INSERT OR REPLACE INTO checkpoints (seq, hash, time, signature, key_id) VALUES (?, ?, ?, ?, ?)",
            [checkpoint.seq, checkpoint.hash, checkpoint.time.milliseconds, checkpoint.signature, checkpoint.keyID]
        )
    }

    private func runWriter() {
        while true {
            wake.wait()
            while stalledForTesting.load(ordering: .acquiring) { usleep(10_000) }
            let (batch, closing) = queue.withLock { pending -> ([WriteJob], Bool) in
                let count = min(pending.jobs.count, SQLiteStore.maxBatch)
                let batch = Array(pending.jobs.prefix(count))
                pending.jobs.removeFirst(count)
                if !pending.jobs.isEmpty { wake.signal() }
                return (batch, pending.closing && pending.jobs.isEmpty)
            }
            if !batch.isEmpty { commit(batch) }
            if closing {
                queue.withLock { $0.running = false }
                finished.signal()
                return
            }
        }
    }

    private func commit(_ batch: [WriteJob]) {
        var outcomes: [Result<any Sendable, any Error>] = []
        do {
            try keys.execute("BEGIN IMMEDIATE")
            do {
                try main.execute("BEGIN IMMEDIATE")
            } catch {
                try? keys.execute("ROLLBACK")
                throw error
            }
            // Host commands (refex log, outbox retry) may have appended since: take the head now,
            // under the write lock, so that the chain stays whole across processes.
            let head = try main.first("SELECT seq, hash FROM log_entries ORDER BY seq DESC LIMIT 1")
            chain.lastSeq = head?.integer(0) ?? 0
            chain.lastHash = head?.text(1) ?? LogEntry.genesisHash
            for job in batch {
                let jobHead = (chain.lastSeq, chain.lastHash)
                do {
                    try main.execute("SAVEPOINT job")
                    try keys.execute("SAVEPOINT job")
                    let transaction = SQLiteTransaction(now: clock(), main: main, keys: keys, chain: chain)
                    let value = try job.body(transaction)
                    try keys.execute("RELEASE job")
                    try main.execute("RELEASE job")
                    outcomes.append(.success(value))
                } catch {
                    try? keys.execute("ROLLBACK TO job; RELEASE job")
                    try? main.execute("ROLLBACK TO job; RELEASE job")
                    (chain.lastSeq, chain.lastHash) = jobHead
                    outcomes.append(.failure(error))
                }
            }
            try signCheckpointIfDue()
            // Keys first: a referral must never be durable without the key that opens it.
            try keys.execute("COMMIT")
            do {
                try main.execute("COMMIT")
            } catch {
                try? main.execute("ROLLBACK")
                throw error
            }
        } catch {
            logger.error("store commit failed", [("error", "\(error)"), ("writes", String(batch.count))])
            for job in batch { job.continuation.resume(throwing: StoreError("the store could not commit: \(error)")) }
            return
        }
        for (job, outcome) in zip(batch, outcomes) {
            job.continuation.resume(with: outcome)
        }
    }
}

/// One queued write.
final class WriteJob: @unchecked Sendable {
    // Created on the caller's thread, then used only by the writer.
    let body: (any StoreTransaction) throws -> any Sendable
    let continuation: CheckedContinuation<any Sendable, any Error>

    init(body: @escaping (any StoreTransaction) throws -> any Sendable, continuation: CheckedContinuation<any Sendable, any Error>) {
        self.body = body
        self.continuation = continuation
    }
}

/// The store could not be opened, or could not commit.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
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

    func open(path: String, keysPath: String) throws -> (SQLiteConnection, SQLiteConnection) {
        if let connections { return connections }
        let main = try SQLiteConnection(path: path, mode: .readOnly)
        // Long scans (log verification, exports) read through memory maps instead of read(2) calls.
        try main.query("PRAGMA mmap_size = 1073741824")
        let keys = try SQLiteConnection(path: keysPath, mode: .readOnly)
        connections = (main, keys)
        return (main, keys)
    }
}
