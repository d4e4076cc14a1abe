import Crypto
import Exchange
import Foundation
import Logging
import Postgres
import Synchronization
import Timekeeping

/// Where a PostgreSQL store is and how a node uses it (`StoreConfiguration.postgres`).
package struct PostgresStoreSettings: Sendable, Hashable {
    /// The data database: a libpq connection string or `postgresql://` URL (may name several
    /// hosts, TLS settings, a password). Secret: never logged, never in an error.
    package var connectionString: String
    /// The subject-key database; nil: the same server and settings, database `<data database>_keys`.
    package var keysConnectionString: String?
    /// Read connections per node (each a pair: data and keys); the writer has one pair more.
    package var poolSize: Int
    /// This node's name, in `application_name` (what `pg_stat_activity` shows).
    package var nodeID: String

    package static let defaultPoolSize = 4

    /// This machine's name (gethostname: no name lookup), the default node id.
    package static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "refex" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package init(connectionString: String, keysConnectionString: String? = nil, poolSize: Int = defaultPoolSize, nodeID: String = PostgresStoreSettings.hostName) {
        self.connectionString = connectionString
        self.keysConnectionString = keysConnectionString
        self.poolSize = max(1, poolSize)
        self.nodeID = nodeID
    }
}

/// The store on PostgreSQL, for several refex nodes on one database: the same group-commit shape
/// as `SQLiteStore` (one writer thread per node running concurrent writes in one transaction,
/// each in its own savepoint; a `write` returns only after COMMIT returned), readers from a pool
/// in read-only snapshots, and subject keys in their own database.
///
/// Across nodes: the log's head is locked by the first append of a commit (`PostgresLogChain`);
/// a write that loses a race on a unique key (the same referral posted to two nodes) or a
/// deadlock is run again in the same commit, so that it sees the winner's row; outbox claims use
/// `FOR UPDATE SKIP LOCKED`. A database that does not answer, or answers read-only (a standby
/// after failover), fails writes at once with `StoreError` kind `unavailable` (HTTP 503) and is
/// named in `problem`; the writer probes once a second and the pools reconnect by themselves.
package final class PostgresStore: RefexStore, @unchecked Sendable {
    // @unchecked: `writer` is used only on the writer thread; the rest is immutable or a Mutex.

    static let maxBatch = 256
    /// How often one write is run again after losing a unique-key race or a deadlock.
    static let conflictRetries = 3

    package let settings: PostgresStoreSettings
    /// The data and keys databases' names (for messages: never the connection string).
    package let databaseName: String
    package let keysDatabaseName: String
    package let wasCreated: Bool
    private let keysOverrides: [(String, String)]
    private let defaults: [(String, String)]
    private let clock: @Sendable () -> Timestamp
    private let checkpointPolicy: CheckpointPolicy?
    private let logger: Logger
    private let queue = Mutex<Pending>(Pending())
    private let health = Mutex<Health>(Health())
    private let lockStatistics = Mutex<LogHeadLockStatistics>(LogHeadLockStatistics())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var writer: ConnectionPair?
    private let readers: PostgresReaderPool

    private struct Pending {
        var jobs: [WriteJob] = []
        var closing = false
        var started = false
        var running = true
    }

    private struct Health {
        var failingSince: ContinuousClock.Instant?
        var failure: String?
    }

    /// Connects, refuses an unsafe server or session, brings both databases to this binary's
    /// schema (refusing a newer one), and checks (or, when `creation` allows and there is none,
    /// records) the store's identity. Throws `StoreError`: `unavailable` when the database does
    /// not answer or is read-only, `unsafeSetting`, `missing`, `identity`, `other`.
    package init(
        settings: PostgresStoreSettings, logger: Logger, masterKey: SymmetricKey?, creation: StoreCreation = .whenBothMissing,
        checkpoints: CheckpointPolicy? = nil, clock: @escaping @Sendable () -> Timestamp = { Timestamp(Date()) }
    ) throws {
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.checkpointPolicy = checkpoints
        let defaults = Self.connectionDefaults(nodeID: settings.nodeID)
        self.defaults = defaults
        let main = try Self.connect(settings.connectionString, defaults: defaults, overrides: [], what: "data")
        databaseName = main.databaseName
        keysOverrides = settings.keysConnectionString == nil ? [("dbname", "\(main.databaseName)_keys")] : []
        let keys = try Self.connect(settings.keysConnectionString ?? settings.connectionString, defaults: defaults, overrides: keysOverrides, what: "keys")
        keysDatabaseName = keys.databaseName
        let pair = ConnectionPair(main: main, keys: keys)
        do {
            try Self.checkWritable(pair, data: databaseName, keys: keysDatabaseName)
            try Self.checkDurability(main, name: databaseName)
            try Self.checkDurability(keys, name: keysDatabaseName)
            let versions = (try PostgresSchema.main.version(main), try PostgresSchema.keys.version(keys))
            try PostgresSchema.main.refuseNewer(versions.0, name: databaseName)
            try PostgresSchema.keys.refuseNewer(versions.1, name: keysDatabaseName)
            if creation == .never && versions == (0, 0) {
                throw StoreError("there is no refex store in the PostgreSQL database \(databaseName) yet: start `refex serve` once, or run `refex store init`", kind: .missing)
            }
            // Nodes starting at once take turns from here (the lock is the migrations'; a session
            // may hold it again inside, in `migrate`): one creates, the others find its identity.
            try main.query("SELECT true FROM pg_advisory_lock($1)", [PostgresSchema.migrationLock])
            defer { _ = try? main.query("SELECT pg_advisory_unlock($1)", [PostgresSchema.migrationLock]) }
            try PostgresSchema.main.migrate(main, name: databaseName)
            try PostgresSchema.keys.migrate(keys, name: keysDatabaseName)
            var identities = (try Self.identity(main), try Self.identity(keys))
            var created = false
            if identities == (nil, nil) {
                guard creation == .whenBothMissing else {
                    throw StoreError("there is no refex store in the PostgreSQL database \(databaseName) yet: start `refex serve` once, or run `refex store init`", kind: .missing)
                }
                created = try Self.recordIdentity(pair, masterKey: masterKey, now: clock().milliseconds)
                identities = (try Self.identity(main), try Self.identity(keys))
            }
            try StoreIdentity.check(
                main: identities.0, keys: identities.1, path: "PostgreSQL database \(databaseName)",
                keysPath: "PostgreSQL database \(keysDatabaseName)", masterKey: masterKey
            )
            wasCreated = created
        } catch let error as PostgresError {
            throw Self.storeError(error, database: databaseName)
        }
        writer = pair
        let (connectionString, keysString, keysOverrides) = (settings.connectionString, settings.keysConnectionString ?? settings.connectionString, keysOverrides)
        readers = PostgresReaderPool(size: settings.poolSize) {
            ConnectionPair(
                main: try Self.connect(connectionString, defaults: defaults, overrides: [], what: "data"),
                keys: try Self.connect(keysString, defaults: defaults, overrides: keysOverrides, what: "keys")
            )
        }
    }

    deinit { close() }

    /// Creates a new, empty store in existing, empty databases (`refex store init`); refuses
    /// databases that already hold one. Throws `StoreError`.
    package static func create(settings: PostgresStoreSettings, masterKey: SymmetricKey?, now: Timestamp) throws {
        let logger = Logger(sink: InMemoryLogSink())
        let probe = try PostgresStore(settings: settings, logger: logger, masterKey: masterKey, creation: .whenBothMissing, clock: { now })
        defer { probe.close() }
        guard probe.wasCreated else {
            throw StoreError("the PostgreSQL database \(probe.databaseName) already holds a refex store; nothing was changed", kind: .other)
        }
    }

    /// Checks, changing nothing, that the databases hold one store and `masterKey` is its key;
    /// no store at all is fine. Throws `StoreError`.
    package static func checkIdentity(settings: PostgresStoreSettings, masterKey: SymmetricKey) throws {
        let defaults = connectionDefaults(nodeID: settings.nodeID)
        let main = try connect(settings.connectionString, defaults: defaults, overrides: [], what: "data")
        let overrides = settings.keysConnectionString == nil ? [("dbname", "\(main.databaseName)_keys")] : []
        let keys = try connect(settings.keysConnectionString ?? settings.connectionString, defaults: defaults, overrides: overrides, what: "keys")
        do {
            try PostgresSchema.main.refuseNewer(try PostgresSchema.main.version(main), name: main.databaseName)
            try PostgresSchema.keys.refuseNewer(try PostgresSchema.keys.version(keys), name: keys.databaseName)
            let mainIdentity = try PostgresSchema.main.version(main) > 0 ? try identity(main) : nil
            let keysIdentity = try PostgresSchema.keys.version(keys) > 0 ? try identity(keys) : nil
            try StoreIdentity.check(
                main: mainIdentity, keys: keysIdentity, path: "PostgreSQL database \(main.databaseName)",
                keysPath: "PostgreSQL database \(keys.databaseName)", masterKey: masterKey
            )
        } catch let error as PostgresError {
            throw storeError(error, database: main.databaseName)
        }
    }

    /// The answer to `refex backup` on PostgreSQL.
    package static func backupAdvice(database: String) -> StoreError {
        StoreError(
            "refex backup copies SQLite stores only; on PostgreSQL back up with pg_dump, the data database (\(database)) first, "
                + "then the subject keys (\(database)_keys unless store.postgresKeys names another), so that every key a referral needs is in the keys dump",
            kind: .other
        )
    }

    // MARK: Lifecycle

    package func start() {
        let starting = queue.withLock { pending -> Bool in
            guard !pending.started, !pending.closing else { return false }
            pending.started = true
            return true
        }
        if starting { startWriter() }
    }

    private func startWriter() {
        let thread = Thread { [self] in runWriter() }
        thread.name = "refex-store-writer"
        thread.start()
    }

    package func close() {
        let wasRunning = queue.withLock { pending -> Bool in
            pending.closing = true
            return pending.running && pending.started
        }
        if wasRunning {
            wake.signal()
            finished.wait()
        }
        readers.drain()
    }

    // MARK: Transactions

    package func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = WriteJob(body: { try body($0) }, continuation: continuation, essential: false)
            let (accepted, starting) = queue.withLock { pending -> (Bool, Bool) in
                guard !pending.closing else { return (false, false) }
                pending.jobs.append(job)
                let starting = !pending.started
                pending.started = true
                return (true, starting)
            }
            if starting { startWriter() }
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
        let (clock, database) = (clock, databaseName)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            readers.run(continuation) { pair in
                do {
                    try pair.main.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    try pair.keys.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    defer {
                        _ = try? pair.keys.execute("ROLLBACK")
                        _ = try? pair.main.execute("ROLLBACK")
                    }
                    // A reader never appends: an attempt fails on the read-only transaction.
                    return try body(PostgresTransaction(now: clock(), main: pair.main, keys: pair.keys, chain: PostgresLogChain()))
                } catch let error as PostgresError {
                    throw Self.storeError(error, database: database)
                }
            }
        }
    }

    // MARK: Health

    package var problem: String? {
        let (state, now) = (health.withLock { $0 }, ContinuousClock.now)
        guard let since = state.failingSince else { return nil }
        return "the store cannot commit for \((now - since).components.seconds) s: \(state.failure ?? "unknown"); refex accepts again by itself once the database does"
    }

    package func hasBeenFailing(longerThan duration: Duration) -> Bool {
        health.withLock { state in
            guard let since = state.failingSince else { return false }
            return ContinuousClock.now - since > duration
        }
    }

    package func writerIsResponsive(within timeout: Duration) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await self.write { _ in true }
            done.signal()
        }
        return done.wait(timeout: .now() + .milliseconds(Int(timeout.wholeMilliseconds))) == .success
    }

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

    /// How long commits held the log head's lock, and waited for it (for metrics).
    package var logHeadLock: LogHeadLockStatistics { lockStatistics.withLock { $0 } }

    /// The read pool now (for metrics).
    package var readPool: PostgresPoolStatistics {
        PostgresPoolStatistics(inUse: readers.inUse, size: settings.poolSize, waitSeconds: readers.waitSeconds)
    }

    private func markFailing(_ reason: String) {
        let first = health.withLock { state -> Bool in
            state.failure = reason
            guard state.failingSince == nil else { return false }
            state.failingSince = ContinuousClock.now
            return true
        }
        if first { logger.critical("store commits are failing; writes get 503 until they succeed again", [("reason", reason)]) }
    }

    private func markRecovered() {
        let was = health.withLock { state -> ContinuousClock.Instant? in
            defer { state.failingSince = nil; state.failure = nil }
            return state.failingSince
        }
        if let was {
            logger.notice("store commits succeed again", [("failed_for_seconds", String((ContinuousClock.now - was).components.seconds))])
        }
    }

    // MARK: The writer

    private func runWriter() {
        while true {
            let failing = health.withLock { $0.failingSince != nil }
            if failing {
                // Probe once a second while commits fail, so that refex recovers with no traffic.
                _ = wake.wait(timeout: .now() + .seconds(1))
            } else {
                wake.wait()
            }
            let (batch, closing) = queue.withLock { pending -> ([WriteJob], Bool) in
                let count = min(pending.jobs.count, Self.maxBatch)
                let batch = Array(pending.jobs.prefix(count))
                pending.jobs.removeFirst(count)
                if !pending.jobs.isEmpty { wake.signal() }
                return (batch, pending.closing && pending.jobs.isEmpty)
            }
            if !batch.isEmpty || (failing && !closing) { commit(batch) }
            if closing {
                writer = nil
                queue.withLock { $0.running = false }
                finished.signal()
                return
            }
        }
    }

    private func commit(_ jobs: [WriteJob]) {
        let probing = health.withLock { $0.failingSince != nil }
        do {
            var pair = try writerPair()
            do {
                try begin(pair)
            } catch let error as PostgresError where error.isUnavailable {
                // A kept connection the server dropped since (a restart, a failover, an idle
                // timeout) fails on its first use: nothing ran yet, so once more on a new one.
                writer = nil
                pair = try writerPair()
                try begin(pair)
            }
            let (outcomes, erased) = try attempt(jobs, on: pair, probe: probing)
            if probing { markRecovered() }
            for (job, outcome) in zip(jobs, outcomes) { job.continuation.resume(with: outcome) }
            if erased { vacuumKeys(pair) }
        } catch {
            // On a read-only server (a standby) a new connection may reach the primary (a host
            // list with target_session_attrs=read-write): this one is not kept.
            let readOnly = (error as? PostgresError).map { $0 ~= SQLState.readOnlySQLTransaction } ?? false
            if let pair = writer {
                if pair.main.isConnected && pair.keys.isConnected && !readOnly {
                    _ = try? pair.keys.execute("ROLLBACK")
                    _ = try? pair.main.execute("ROLLBACK")
                } else {
                    writer = nil
                }
            }
            let failure: StoreError
            if let postgres = error as? PostgresError {
                failure = Self.storeError(postgres, database: databaseName)
                if failure.kind == .unavailable { markFailing(failure.description) }
            } else if let store = error as? StoreError {
                failure = store
                if store.kind == .unavailable || store.kind == .unsafeSetting { markFailing(store.description) }
            } else {
                logger.error("store commit failed", [("error", "\(error)"), ("writes", String(jobs.count))])
                failure = StoreError("the store could not commit: \(error)", kind: .unavailable)
            }
            for job in jobs { job.continuation.resume(throwing: failure) }
        }
    }

    /// The writer's connections, reconnected (and checked again for durability and a primary)
    /// after they broke.
    private func writerPair() throws -> ConnectionPair {
        if let writer, writer.main.isConnected, writer.keys.isConnected { return writer }
        writer = nil
        let pair = ConnectionPair(
            main: try Self.connect(settings.connectionString, defaults: defaults, overrides: [], what: "data"),
            keys: try Self.connect(settings.keysConnectionString ?? settings.connectionString, defaults: defaults, overrides: keysOverrides, what: "keys")
        )
        try Self.checkDurability(pair.main, name: databaseName)
        try Self.checkDurability(pair.keys, name: keysDatabaseName)
        writer = pair
        return pair
    }

    /// Opens the commit's transactions on both databases.
    private func begin(_ pair: ConnectionPair) throws {
        try pair.keys.execute("BEGIN")
        try pair.main.execute("BEGIN")
    }

    /// One commit of `jobs` (the transactions begun), each in its own savepoint; with `probe`, a real write to both
    /// databases that proves they take writes again. Returns each job's outcome, and whether a
    /// subject was erased. Throws when the commit as a whole failed (nothing was stored).
    private func attempt(_ jobs: [WriteJob], on pair: ConnectionPair, probe: Bool) throws -> ([Result<any Sendable, any Error>], Bool) {
        var outcomes: [Result<any Sendable, any Error>] = []
        var erased = false
        let chain = PostgresLogChain()
        for job in jobs {
            var tries = 0
            while true {
                let saved = chain.saved
                try pair.main.execute("SAVEPOINT job")
                try pair.keys.execute("SAVEPOINT job")
                let transaction = PostgresTransaction(now: clock(), main: pair.main, keys: pair.keys, chain: chain)
                do {
                    let value = try job.body(transaction)
                    try pair.keys.execute("RELEASE SAVEPOINT job")
                    try pair.main.execute("RELEASE SAVEPOINT job")
                    erased = erased || transaction.erased
                    outcomes.append(.success(value))
                    break
                } catch {
                    // The database away or read-only (a standby): the whole commit fails, and `problem` says why.
                    if let postgres = error as? PostgresError, postgres.isUnavailable || postgres ~= SQLState.readOnlySQLTransaction { throw postgres }
                    // The savepoint's rollback also gives back the log head's lock if this write took it.
                    try pair.keys.execute("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
                    try pair.main.execute("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
                    chain.restore(saved)
                    // Another node committed the same unique row first (or a deadlock was broken):
                    // run the write again; it now sees the other node's row, as a second request would.
                    if let postgres = error as? PostgresError, postgres ~= SQLState.uniqueViolation || postgres.isTransientConflict,
                       tries < Self.conflictRetries {
                        tries += 1
                        continue
                    }
                    outcomes.append(.failure(Self.jobError(error, database: databaseName)))
                    break
                }
            }
        }
        if let checkpointPolicy {
            // Without an append in this commit the head is read unlocked: a committed position,
            // signed at most once (the checkpoints' primary key).
            let head = try chain.head ?? PostgresLogChain.readHead(pair.main)
            let transaction = PostgresTransaction(now: clock(), main: pair.main, keys: pair.keys, chain: chain)
            try checkpointPolicy.signIfDue(head: head, in: transaction)
        }
        if probe {
            let now = clock().milliseconds
            try pair.keys.query("UPDATE store_identity SET probed_at = $1 WHERE id = 1", [now])
            try pair.main.query("UPDATE store_identity SET probed_at = $1 WHERE id = 1", [now])
        }
        // Keys first: a referral must never be durable without the key that opens it.
        try pair.keys.execute("COMMIT")
        try pair.main.execute("COMMIT")
        if let lockedAt = chain.lockedAt {
            let held = ContinuousClock.now - lockedAt
            lockStatistics.withLock { $0.record(held: held, waited: chain.waited) }
        }
        return (outcomes, erased)
    }

    /// After erasures: VACUUM the key tables (outside any transaction), so that the deleted
    /// keys' rows are removed from the live tables and their indexes, not merely marked dead.
    private func vacuumKeys(_ pair: ConnectionPair) {
        do {
            try pair.keys.execute("VACUUM subject_keys, subject_index")
        } catch {
            logger.warning("vacuuming the subject keys after an erasure failed; the next erasure tries again", [("error", "\(error)")])
        }
    }

    // MARK: Connections and checks

    private static func connectionDefaults(nodeID: String) -> [(String, String)] {
        // Fail fast when the server is away; notice a dead TCP peer within seconds.
        [("connect_timeout", "5"), ("application_name", "refex \(nodeID)"), ("keepalives_idle", "10"),
         ("keepalives_interval", "3"), ("keepalives_count", "3"), ("tcp_user_timeout", "15000")]
    }

    private static func connect(_ string: String, defaults: [(String, String)], overrides: [(String, String)], what: String) throws -> PostgresConnection {
        do {
            return try PostgresConnection(connectionString: string, defaults: defaults, overrides: overrides)
        } catch {
            let name = overrides.last { $0.0 == "dbname" }?.1 ?? PostgresConnectionString.databaseName(string)
            throw StoreError(
                "cannot reach the PostgreSQL \(what) database\(name.map { " \($0)" } ?? "") (\(error.message)); refex retries by itself", kind: .unavailable
            )
        }
    }

    /// Refuses settings under which COMMIT may return before the commit is on disk.
    private static func checkDurability(_ connection: PostgresConnection, name: String) throws {
        if try connection.setting("fsync") == "off" {
            throw StoreError(
                "the PostgreSQL server of database \(name) runs with fsync=off: a crash could lose what refex acknowledged; set fsync = on",
                kind: .unsafeSetting
            )
        }
        if try connection.setting("synchronous_commit") == "off" {
            throw StoreError(
                "the PostgreSQL session for database \(name) has synchronous_commit=off (in the server, database, role or connection settings): "
                    + "COMMIT would return before the commit is durable; set synchronous_commit to on, remote_write, remote_apply or local",
                kind: .unsafeSetting
            )
        }
    }

    /// Refuses a standby (read-only) at start, naming it.
    private static func checkWritable(_ pair: ConnectionPair, data: String, keys: String) throws {
        for (connection, name) in [(pair.main, data), (pair.keys, keys)] {
            let recovering = try connection.first("SELECT pg_is_in_recovery()")?[0].boolean ?? false
            let readOnly = try connection.setting("default_transaction_read_only") == "on"
            if recovering || readOnly {
                throw StoreError(
                    "the PostgreSQL database \(name) is read-only (a standby, or default_transaction_read_only): point refex at the primary "
                        + "(e.g. target_session_attrs=read-write with every host listed)",
                    kind: .unavailable
                )
            }
        }
    }

    private static func identity(_ connection: PostgresConnection) throws -> StoreIdentity? {
        guard let found = try connection.first("SELECT store_id, key_check FROM store_identity WHERE id = 1") else { return nil }
        let row = StrictRow(found, table: "store_identity", columns: ["store_id", "key_check"])
        return StoreIdentity(storeID: try row.text(0), keyCheck: try row.text(1))
    }

    /// Records a new identity in both databases, keys first; two nodes creating at once agree on
    /// the first one stored. Returns whether this call stored it.
    private static func recordIdentity(_ pair: ConnectionPair, masterKey: SymmetricKey?, now: Int64) throws -> Bool {
        let storeID = SecureRandom.bytes(16).hexString
        let identity = StoreIdentity(storeID: storeID, keyCheck: masterKey.map { StoreIdentity.keyCheck(masterKey: $0, storeID: storeID) } ?? "")
        let insert = "INSERT INTO store_identity (id, store_id, key_check, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING"
        let stored = try pair.keys.update(insert, [identity.storeID, identity.keyCheck, now]) == 1
        let kept = try Self.identity(pair.keys) ?? identity
        try pair.main.update(insert, [kept.storeID, kept.keyCheck, now])
        return stored
    }

    /// A PostgreSQL error as the store's: unavailable (503) when the database is away or read-only.
    static func storeError(_ error: PostgresError, database: String) -> StoreError {
        if error.isUnavailable {
            return StoreError("the PostgreSQL database \(database) does not answer (\(error.message)); retry shortly", kind: .unavailable, retryAfterSeconds: 5)
        }
        if error ~= SQLState.readOnlySQLTransaction {
            return StoreError(
                "the PostgreSQL database \(database) is read-only (a standby, e.g. after a failover): nothing is stored until refex reaches a primary",
                kind: .unavailable, retryAfterSeconds: 10
            )
        }
        return StoreError("the PostgreSQL database \(database) refused the operation: \(error)", kind: .other)
    }

    private static func jobError(_ error: any Error, database: String) -> any Error {
        guard let postgres = error as? PostgresError else { return error }
        return storeError(postgres, database: database)
    }
}

/// A node's read pool: pairs in use now, its size, and the seconds reads waited for a free pair
/// (summed since the store opened).
package struct PostgresPoolStatistics: Sendable, Hashable {
    package var inUse: Int
    package var size: Int
    package var waitSeconds: Double
}

/// A node's connections to the two databases, used together by one thread at a time.
final class ConnectionPair: @unchecked Sendable {
    let main: PostgresConnection
    let keys: PostgresConnection

    init(main: PostgresConnection, keys: PostgresConnection) {
        self.main = main
        self.keys = keys
    }

    var isUsable: Bool { main.isConnected && keys.isConnected && !main.isInTransaction && !keys.isInTransaction }

    /// Whether both connections still reach the server (a round trip each).
    func answers() -> Bool {
        (try? main.execute("")) != nil && (try? keys.execute("")) != nil && main.isConnected && keys.isConnected
    }
}

/// The readers' connections: at most `size` pairs in use at once, each opened on first need and
/// kept while it works; a broken one is dropped, so that the next read connects afresh.
final class PostgresReaderPool: Sendable {
    private let idle = Mutex<[ConnectionPair]>([])
    private let used = Atomic<Int>(0)
    private let waitedNanoseconds = Atomic<Int>(0)
    private let slots: DispatchSemaphore
    private let threads = DispatchQueue(label: "refex.store.postgres.readers", attributes: .concurrent)
    private let connect: @Sendable () throws -> ConnectionPair

    init(size: Int, connect: @escaping @Sendable () throws -> ConnectionPair) {
        slots = DispatchSemaphore(value: size)
        self.connect = connect
    }

    var inUse: Int { used.load(ordering: .relaxed) }
    var waitSeconds: Double { Double(waitedNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Runs `body` on a pooled pair off the caller's thread and resumes `continuation` with its answer.
    func run<Result: Sendable>(_ continuation: CheckedContinuation<Result, any Error>, _ body: @escaping @Sendable (ConnectionPair) throws -> Result) {
        threads.async { [self] in
            let asked = DispatchTime.now().uptimeNanoseconds
            slots.wait()
            waitedNanoseconds.add(Int(DispatchTime.now().uptimeNanoseconds - asked), ordering: .relaxed)
            used.add(1, ordering: .relaxed)
            let outcome: Swift.Result<Result, any Error>
            var pair: ConnectionPair?
            do {
                pair = try idle.withLock { $0.popLast() } ?? connect()
                if pair?.answers() != true {
                    // Kept while the server dropped it (a restart, a failover): a new one.
                    pair = try connect()
                }
                guard let pair else { preconditionFailure("a read connection was just made") }
                outcome = .success(try body(pair))
            } catch {
                outcome = .failure(error)
            }
            // Kept unless broken (a read that threw has been rolled back: the pair is fine).
            if let pair, pair.isUsable { idle.withLock { $0.append(pair) } }
            // The pair is back before the reader hears its answer.
            used.subtract(1, ordering: .relaxed)
            slots.signal()
            continuation.resume(with: outcome)
        }
    }

    /// Closes the idle connections.
    func drain() {
        idle.withLock { $0.removeAll() }
    }
}
