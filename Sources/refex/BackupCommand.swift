import Foundation
import JSON
import Store

/// `refex backup DEST`: a consistent copy of the store (its data and its subject keys) while the
/// daemon keeps serving.
enum BackupCommand {
    static let usage = """
    usage: refex backup DEST [--config FILE | --store PATH]

    Copies the store named by the config (default /etc/refex/refex.json), or the store at PATH, with
    SQLite's online backup while refex keeps serving. DEST is either an existing folder, which
    receives both files under their own names (e.g. DEST/refex.db and DEST/refex-keys.db), or the
    path of the new data file, whose keys go beside it as NAME-keys.EXT (e.g. /backup/monday.db and
    /backup/monday-keys.db). Nothing is overwritten. The copies are readable by their owner only:
    the keys file holds every subject key (wrapped by the master key, which is not copied).

    Both files are needed to restore: stop refex, put them at store.path and store.keysPath (owned
    by the refex user, mode 0600, with no -wal or -shm file left beside them), start refex.
    """

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            return 0
        }
        guard let options = HostOptions.parse(arguments, command: "backup"), options.positional.count == 1 else {
            printError("refex backup: give one destination (a folder or a new file)\n\n\(usage)")
            return 2
        }
        let store: StoreConfiguration
        if let path = options.storePath {
            store = .sqliteWithDefaultKeys(path: path)
        } else {
            let configPath = options.configPath ?? "/etc/refex/refex.json"
            do {
                store = try storeFiles(configPath: configPath)
            } catch let problem as PostgresBackupAdvice {
                printError("refex backup: \(problem)")
                return 1
            } catch {
                printError("refex backup: config \(configPath): \(error)")
                return 1
            }
        }
        let destination = options.positional[0]
        var isDirectory: ObjCBool = false
        let target: StoreConfiguration
        let source: (path: String, keysPath: String)
        switch store {
        case .sqlite(let path, let keysPath): source = (path, keysPath)
        case .postgres:
            do {
                _ = try store.backup(to: store)
            } catch {
                printError("refex backup: \(error)")
            }
            return 1
        }
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            let folder = URL(fileURLWithPath: destination)
            target = .sqlite(
                path: folder.appendingPathComponent((source.path as NSString).lastPathComponent).path,
                keysPath: folder.appendingPathComponent((source.keysPath as NSString).lastPathComponent).path
            )
        } else {
            target = .sqliteWithDefaultKeys(path: destination)
        }

        // The copies hold sealed personal data and every subject key: for their owner alone.
        umask(0o077)
        do {
            let summary = try store.backup(to: target)
            print("\(source.path) -> \(summary.path): \(summary.pages) pages, quick_check ok")
            print("\(source.keysPath) -> \(summary.keysPath): \(summary.keyPages) pages, quick_check ok")
            print("disclosure log: \(summary.logEntries) entries, head \(summary.logHead)")
            print("subjects: \(summary.subjects), with their key: \(summary.subjectKeys)")
            return 0
        } catch {
            printError("refex backup: \(error)")
            return 1
        }
    }

    /// `store.path` and `store.keysPath` from a config, resolved as the daemon resolves them. Only
    /// these are read: a backup needs no key, certificate or partner, so it works whatever state
    /// they are in.
    static func storeFiles(configPath: String) throws -> StoreConfiguration {
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw ConfigProblem("cannot read the config file")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(Array(data))
        } catch {
            throw ConfigProblem("not valid JSON: \(error)")
        }
        if let connection = document["store"]?["postgres"]?.stringValue {
            throw PostgresBackupAdvice(connection: connection, keysConnection: document["store"]?["postgresKeys"]?.stringValue)
        }
        guard let path = document["store"]?["path"]?.stringValue, !path.isEmpty else {
            throw ConfigProblem("store.path is missing")
        }
        let folder = (configPath as NSString).deletingLastPathComponent
        func resolve(_ file: String) -> String {
            file.hasPrefix("/") || folder.isEmpty ? file : "\(folder)/\(file)"
        }
        guard let keysPath = document["store"]?["keysPath"]?.stringValue.map(resolve) else {
            return .sqliteWithDefaultKeys(path: resolve(path))
        }
        return .sqlite(path: resolve(path), keysPath: keysPath)
    }

    /// A PostgreSQL store is backed up with PostgreSQL's tools, not by refex: what to run instead.
    /// The connection strings are shown redacted.
    struct PostgresBackupAdvice: Error, CustomStringConvertible {
        var connection: String
        var keysConnection: String?

        var description: String {
            let data = PostgresConnectionString.redact(connection)
            let keys: String
            if let keysConnection {
                keys = PostgresConnectionString.redact(keysConnection)
            } else if let parsed = try? PostgresConnectionString(connection), let name = parsed.value("dbname") {
                keys = PostgresConnectionString.redact(parsed.setting("dbname", to: "\(name)_keys"))
            } else {
                keys = "(store.postgresKeys)"
            }
            return """
            the store is PostgreSQL (store.postgres): refex backup copies SQLite stores only. Back up both databases with PostgreSQL's tools, the data first and the keys after it (so that every subject in the data copy has its key):
              pg_dump --format=custom --file=refex-data-$(date +%F).dump '\(data)'
              pg_dump --format=custom --file=refex-keys-$(date +%F).dump '\(keys)'
            (or continuous archiving: pg_basebackup with WAL archiving, keys kept on a shorter schedule). See README, "The store on PostgreSQL".
            """
        }
    }

    /// Why the config names no store, in one line.
    struct ConfigProblem: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
