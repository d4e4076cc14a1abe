import Crypto
import Daemon
import Exchange
import Foundation
import Logging
import Services
import Store

/// `refex store init`: creates a new, empty store (both databases, with their identity and the
/// master key's check value) where the config says. Creating a store is always explicit: this,
/// or the first `refex serve` on an empty folder; never a side effect of a missing file.
///
/// `refex store migrate`: copies a stopped SQLite store into an empty store (PostgreSQL, or
/// another SQLite store), verbatim, and checks that both logs say the same.
enum StoreCommand {
    static let usage = """
    usage: refex store init [--config FILE]
           refex store migrate --from SQLITE_PATH [--from-keys PATH] --to TARGET [--to-keys TARGET] [--config FILE]

    init: creates store.path and store.keysPath (default config /etc/refex/refex.json), recording in
    both a new store id and a check value of the master key (never the key), so that refex later
    refuses a missing half, a file of another store, or another master key. Refused when either
    file exists: restore a store from its backup instead (README: Restore).

    migrate: copies the SQLite store at SQLITE_PATH (its subject keys beside it as NAME-keys.EXT,
    or --from-keys) into TARGET: a PostgreSQL connection string or postgresql:// URL (its keys
    database --to-keys, default the same with dbname NAME_keys), or the path of a new SQLite store.
    The source must be stopped (refused while refex or anything else has it open) and the target
    empty (created when it does not exist yet; a target holding anything is refused). Every row is
    copied as it is: log entries with their hashes, checkpoints with their signatures, the log's
    anchor after pruning, sealed bodies, wrapped keys, consents, disclosures, the outbox, the
    subject index, erased, restricted and rectified subjects. Then the log is verified on both
    sides (same length, same head hash, the same checkpoints; signatures with the config's
    log.signingKey) and a summary of counts and ids is printed. The master key comes from the
    config (masterKey, or the credential master-key): it must be the source's. A password never
    goes on the command line: libpq reads it from a passfile (~/.pgpass, PGPASSFILE, passfile=).
    Exit status: 0 copied and verified; 1 refused or failed (nothing is copied into a target that
    was not empty); 2 usage.
    """

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            return 0
        }
        switch arguments.first {
        case "init": return initialise(Array(arguments.dropFirst()))
        case "migrate": return migrate(Array(arguments.dropFirst()))
        default:
            printError("refex store: the subcommands are init and migrate\n\n\(usage)")
            return 2
        }
    }

    private static func loadConfig(_ path: String, command: String) -> HostConfiguration? {
        do {
            return try ConfigurationLoader.loadForHost(path: path, needsCatalog: false)
        } catch let error as ConfigurationError {
            for problem in error.problems { printError("refex \(command): config \(error.path): \(problem)") }
        } catch {
            printError("refex \(command): \(error)")
        }
        return nil
    }

    private static func initialise(_ arguments: [String]) -> Int32 {
        guard let options = HostOptions.parse(arguments, command: "store init"), options.positional.isEmpty,
              options.storePath == nil else {
            printError("refex store init: takes only --config FILE\n\n\(usage)")
            return 2
        }
        guard let loaded = loadConfig(options.configPath ?? "/etc/refex/refex.json", command: "store init") else { return 1 }
        let store = loaded.configuration.store
        // The store holds sealed personal data and every subject key: for its owner alone.
        umask(0o077)
        do {
            try loaded.configuration.storeConfiguration.create(masterKey: loaded.masterKey)
        } catch {
            printError("refex store init: \(error)")
            return 1
        }
        switch store {
        case .sqlite(let files): print("created the store \(files.path) and its subject keys \(files.keysPath)")
        case .postgres(let settings):
            print("created the store in \(settings.connection.redacted) and its subject keys in \(settings.keysConnection.redacted)")
        }
        return 0
    }

    private static func migrate(_ arguments: [String]) -> Int32 {
        let command = "store migrate"
        guard let options = HostOptions.parse(arguments, command: command, valued: ["--from", "--from-keys", "--to", "--to-keys"]),
              options.positional.isEmpty, options.storePath == nil,
              let from = options.values["--from"], let to = options.values["--to"], !from.isEmpty, !to.isEmpty else {
            printError("refex store migrate: give --from SQLITE_PATH and --to TARGET\n\n\(usage)")
            return 2
        }
        let fromKeys = options.values["--from-keys"] ?? StoreConfiguration.defaultKeysPath(forStoreAt: from)
        let target: StoreConfiguration
        switch migrationTarget(to, keys: options.values["--to-keys"]) {
        case .success(let found): target = found
        case .failure(let problem):
            printError("refex store migrate: \(problem.description)")
            return 2
        }
        guard let loaded = loadConfig(options.configPath ?? "/etc/refex/refex.json", command: command) else { return 1 }
        umask(0o077)
        let summary: StoreCopySummary
        do {
            summary = try target.copy(fromSQLite: from, keysPath: fromKeys, masterKey: loaded.masterKey)
        } catch {
            printError("refex store migrate: \(error)")
            return 1
        }
        print("copied \(from) (keys \(fromKeys)) into \(target.shownLocation)")
        print("rows: " + summary.rows.map { "\($0.table) \($0.count)" }.joined(separator: ", "))
        return verifyBothLogs(source: .sqlite(path: from, keysPath: fromKeys), target: target, loaded: loaded)
    }

    /// `--to` as a store: a connection string or URL (PostgreSQL), else a SQLite path.
    static func migrationTarget(_ to: String, keys: String?) -> Result<StoreConfiguration, MigrationProblem> {
        let looksPostgres = to.hasPrefix("postgresql://") || to.hasPrefix("postgres://") || to.contains("=")
        guard looksPostgres else {
            return .success(.sqlite(path: to, keysPath: keys ?? StoreConfiguration.defaultKeysPath(forStoreAt: to)))
        }
        for (text, option) in [(to, "--to"), (keys, "--to-keys")] {
            guard let text else { continue }
            let parsed: PostgresConnectionString
            do {
                parsed = try PostgresConnectionString(text)
            } catch {
                return .failure(MigrationProblem(description: "\(option) cannot be read as a connection string: \(error)"))
            }
            if !parsed.secretSettings.isEmpty {
                return .failure(MigrationProblem(
                    description: "\(option) holds a password (\(parsed.secretSettings.joined(separator: ", "))): a command line is visible to every user of the host; put it in a passfile (~/.pgpass, or PGPASSFILE) instead"
                ))
            }
        }
        let keysConnection = keys ?? (try? PostgresConnectionString(to)).flatMap { parsed in
            parsed.value("dbname").map { parsed.setting("dbname", to: "\($0)_keys") }
        }
        guard let keysConnection else {
            return .failure(MigrationProblem(description: "--to names no database (dbname=..., or /NAME in a URL): name it, or give --to-keys too"))
        }
        return .success(.postgres(PostgresStoreSettings(connectionString: to, keysConnectionString: keysConnection, nodeID: "refex-store-migrate")))
    }

    struct MigrationProblem: Error, CustomStringConvertible {
        var description: String
    }

    /// Verifies the log on both sides and compares them: the same entries, head and checkpoints.
    /// Nothing is recorded in either log (the source is opened read-only, the target's check is
    /// not logged), so that the two stay equal.
    private static func verifyBothLogs(source: StoreConfiguration, target: StoreConfiguration, loaded: HostConfiguration) -> Int32 {
        let logger = Logger(sink: StandardErrorLogSink(), level: .warning)
        let publicKey = loaded.logSigningKey?.publicKey
        let retention = loaded.configuration.retention.policy.log
        do {
            let original = try source.openCopy(logger: logger, recordingReadsIn: nil, checkIntegrity: false)
            let copy = try target.open(logger: logger, masterKey: loaded.masterKey, creation: .never, integrityCheckLimit: .zero)
            defer {
                original.close()
                copy.close()
            }
            let actor = hostActor()
            func check(_ store: any RefexStore) throws -> (LogVerificationReport, [Checkpoint]) {
                let exchange = Exchange(store: store, catalog: .empty, keyring: Keyring(masterKey: loaded.masterKey), recipients: [])
                return try runAsync {
                    let report = try await exchange.verifyLog(publicKey: publicKey, kept: nil, logRetention: retention, by: actor, recordsReading: false)
                    let checkpoints = try await store.read { try $0.checkpoints() }
                    return (report, checkpoints)
                }
            }
            let (before, beforeCheckpoints) = try check(original)
            let (after, afterCheckpoints) = try check(copy)
            var problems: [String] = []
            if let failure = before.failure { problems.append("the source's log fails at entry \(failure.seq): \(failure.reason)") }
            if let failure = after.failure { problems.append("the copy's log fails at entry \(failure.seq): \(failure.reason)") }
            if before.entries != after.entries || before.lastSeq != after.lastSeq {
                problems.append("the copy has \(after.entries) entries up to \(after.lastSeq), the source \(before.entries) up to \(before.lastSeq)")
            }
            if before.lastHash != after.lastHash { problems.append("the copy's head hash \(after.lastHash) is not the source's \(before.lastHash)") }
            if beforeCheckpoints != afterCheckpoints {
                problems.append("the copy's checkpoints (\(afterCheckpoints.count)) are not the source's (\(beforeCheckpoints.count))")
            }
            let pruned = before.prunedThrough.map { ", pruned through \($0)" } ?? ""
            print("disclosure log: \(after.entries) entries up to \(after.lastSeq)\(pruned), head \(after.lastHash); \(afterCheckpoints.count) checkpoints, "
                + (publicKey == nil ? "signatures not checked (no log.signingKey in the config)" : "signatures checked"))
            guard problems.isEmpty else {
                for problem in problems { printError("refex store migrate: \(problem)") }
                printError("refex store migrate: the copy does not match its source: do not use it; empty the target and run again")
                return 1
            }
            print("verified: the same log on both sides")
            return 0
        } catch {
            printError("refex store migrate: verifying the logs: \(error)")
            return 1
        }
    }
}

extension StoreConfiguration {
    /// Where the store is, safe to print (connection strings redacted).
    var shownLocation: String {
        switch self {
        case .sqlite(let path, let keysPath): "\(path) (keys \(keysPath))"
        case .postgres(let settings):
            "\(PostgresConnectionString.redact(settings.connectionString)) (keys \(PostgresConnectionString.redact(settings.keysConnectionString ?? "")))"
        }
    }
}
