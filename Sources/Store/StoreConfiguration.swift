import Crypto
import Exchange
import Foundation
import Logging

/// Which store refex uses, and where: the one value everything above Store opens a store from.
/// Each operation on a store that is not a transaction (open, create, check, back up, open a
/// copy) is a method here, so that nothing above Store names an implementation.
package enum StoreConfiguration: Sendable, Hashable {
    /// The embedded store (one node): the data at `path` (SQLite, WAL) and the subject keys at
    /// `keysPath` (SQLite, rollback journal). The two files are one store (`StoreIdentity`).
    case sqlite(path: String, keysPath: String)

    /// PostgreSQL (several nodes on one database): the data and the subject keys in two
    /// databases (`PostgresStoreSettings`), one store (`StoreIdentity`).
    case postgres(PostgresStoreSettings)

    /// An embedded store whose subject keys are beside it under their default name.
    package static func sqliteWithDefaultKeys(path: String) -> StoreConfiguration {
        .sqlite(path: path, keysPath: defaultKeysPath(forStoreAt: path))
    }

    /// Where the subject keys of a SQLite store at `path` are kept unless configured
    /// (`store.keysPath`): `refex.db` → `refex-keys.db`, `/backup/monday` → `/backup/monday-keys`.
    /// The path stays as given, relative or not.
    package static func defaultKeysPath(forStoreAt path: String) -> String {
        let ext = (path as NSString).pathExtension
        return ext.isEmpty ? "\(path)-keys" : "\(path.dropLast(ext.count + 1))-keys.\(ext)"
    }

    /// The file (or, later, the server) the store's data is in, for messages and for telling
    /// whether two configurations name the same store.
    package var location: String {
        switch self {
        case .sqlite(let path, _): path
        // The database's name, never the connection string (it may hold a password).
        case .postgres(let settings): "postgresql:\(PostgresConnectionString.databaseName(settings.connectionString) ?? "(default database)")"
        }
    }

    /// The disk reserve kept beside an embedded store by default, for essential writes on a full
    /// disk (see `SQLiteStore`).
    package static let defaultReserveBytes = 8 << 20

    /// Opens the store, creating it only as `creation` allows, and checks that it is one store
    /// and `masterKey`'s (when given) and that its data is sound (within `integrityCheckLimit`;
    /// zero skips the check, for host commands beside a running daemon). `checkpoints`: the log
    /// signing hook each commit calls. `walLimitBytes`: for SQLite, the WAL size past which the
    /// writer folds it in so that it starts again (`SQLiteStore.defaultWALRestartBytes` when nil).
    /// Throws `StoreError` naming the file and what to do.
    package func open(
        logger: Logger, masterKey: SymmetricKey?, creation: StoreCreation = .whenBothMissing,
        integrityCheckLimit: Duration = .seconds(20), reserveBytes: Int = 0, checkpoints: CheckpointPolicy? = nil,
        walLimitBytes: Int? = nil
    ) throws -> any RefexStore {
        switch self {
        case .sqlite(let path, let keysPath):
            try SQLiteStore(
                path: path, keysPath: keysPath, logger: logger, masterKey: masterKey, creation: creation,
                integrityCheckLimit: integrityCheckLimit, reserveBytes: reserveBytes, checkpoints: checkpoints,
                walRestartBytes: walLimitBytes ?? SQLiteStore.defaultWALRestartBytes
            )
        case .postgres(let settings):
            try PostgresStore(settings: settings, logger: logger, masterKey: masterKey, creation: creation, checkpoints: checkpoints)
        }
    }

    /// Opens a copy of a store (a backup, a file under inspection) read-only, creating and
    /// changing nothing; log entries that reading appends go to `live` when given, else nowhere.
    /// With `checkIntegrity` a damaged copy is refused. Throws `StoreError`.
    package func openCopy(logger: Logger, recordingReadsIn live: (any ExchangeStore)?, checkIntegrity: Bool) throws -> any RefexStore {
        switch self {
        case .sqlite(let path, let keysPath):
            try SQLiteStore(copyAt: path, keysPath: keysPath, logger: logger, recordingReadsIn: live, checkIntegrity: checkIntegrity)
        case .postgres:
            throw StoreError("a copy to open read-only is a SQLite store (two files); restore a pg_dump into a new database to inspect a PostgreSQL one", kind: .other)
        }
    }

    /// Creates a new, empty store, only where there is none (`refex store init`). Throws `StoreError`.
    package func create(masterKey: SymmetricKey?, now: Timestamp = Timestamp(Date())) throws {
        switch self {
        case .sqlite(let path, let keysPath):
            try SQLiteStore.create(path: path, keysPath: keysPath, masterKey: masterKey, now: now.milliseconds)
        case .postgres(let settings):
            try PostgresStore.create(settings: settings, masterKey: masterKey, now: now)
        }
    }

    /// Checks, reading only, that the store is one store and `masterKey` its key (`refex config
    /// check`); no store at all is fine (a first start creates it). Throws `StoreError`.
    package func checkIdentity(masterKey: SymmetricKey) throws {
        switch self {
        case .sqlite(let path, let keysPath):
            try SQLiteStore.checkIdentity(path: path, keysPath: keysPath, masterKey: masterKey)
        case .postgres(let settings):
            try PostgresStore.checkIdentity(settings: settings, masterKey: masterKey)
        }
    }

    /// Copies the store, live or stopped, to `destination` (which must not exist), each part as
    /// of one commit and checked (`refex backup`). Throws `StoreError`.
    package func backup(to destination: StoreConfiguration, timeout: Duration = .seconds(30)) throws(StoreError) -> StoreBackupSummary {
        switch (self, destination) {
        case (.sqlite(let path, let keysPath), .sqlite(let target, let keysTarget)):
            try SQLiteStore.backup(path: path, keysPath: keysPath, to: target, keysDestination: keysTarget, timeout: timeout)
        case (.postgres(let settings), _):
            throw PostgresStore.backupAdvice(database: PostgresConnectionString.databaseName(settings.connectionString) ?? "the data database")
        case (.sqlite, .postgres):
            throw StoreError("refex backup writes a SQLite copy; to move a store to PostgreSQL use refex store migrate", kind: .other)
        }
    }
}

/// Whether opening may create a store where there is none.
package enum StoreCreation: Sendable {
    /// Nothing there at all: create it (`refex serve` on an empty folder).
    case whenBothMissing
    /// Never: a missing store is an error (host commands).
    case never
}

/// What `StoreConfiguration.backup` wrote.
package struct StoreBackupSummary: Sendable {
    /// Where the copy's data and subject keys are.
    package var path: String
    package var keysPath: String
    /// Pages copied of each.
    package var pages: Int
    package var keyPages: Int
    /// Disclosure log entries in the copy, and the hash at its head.
    package var logEntries: Int64
    package var logHead: String
    /// Subjects in the copy, and how many of them have a key in the copied key database.
    package var subjects: Int64
    package var subjectKeys: Int64
}

/// Hooks for tests of the daemon (`REFEX_TEST_HOOKS=1`), apart from `RefexStore`: a store may
/// offer them, and nothing relies on it.
package protocol StoreTestHooks: Sendable {
    /// While true, the writer takes no work (for the watchdog test).
    func stallForTesting(_ stalled: Bool)
}
