import Foundation
import JSON
import Store

extension Configuration {
    /// The `store` section: the embedded SQLite store (`path`, `keysPath`) or PostgreSQL
    /// (`postgres`, `postgresKeys`, `poolSize`, `nodeId`), exactly one of them.
    package enum StoreSettings: Sendable, Hashable {
        case sqlite(StoreFiles)
        case postgres(PostgresSettings)

        /// The embedded store at `path`, with its subject keys at `keysPath`.
        package init(path: String, keysPath: String) {
            self = .sqlite(StoreFiles(path: path, keysPath: keysPath))
        }

        /// The SQLite files, nil for PostgreSQL.
        package var files: StoreFiles? {
            if case .sqlite(let files) = self { files } else { nil }
        }

        /// Where the data is, safe to show: the SQLite file, or the redacted connection string.
        package var description: String {
            switch self {
            case .sqlite(let files): files.path
            case .postgres(let settings): settings.connection.redacted
            }
        }
    }

    /// `store.postgres` and its companions. The connection strings hold no secret (refused when
    /// they do); the password and the client key come from systemd credentials or a passfile.
    package struct PostgresSettings: Sendable, Hashable {
        /// The data database (`store.postgres`).
        package var connection: PostgresConnectionString
        /// The subject-key database (`store.postgresKeys`, default: `connection` with dbname `NAME_keys`).
        package var keysConnection: PostgresConnectionString
        /// Connections this node keeps open (`store.poolSize`).
        package var poolSize: Int = 8
        /// This node's name in outbox claims and logs (`store.nodeId`, default `HOST-PID`).
        package var nodeID: String
        /// The credential `postgres-password`, when systemd passed it.
        package var password: PostgresPassword?
        /// The path of the credential `postgres-client-key` (libpq's `sslkey`), when passed.
        package var clientKeyPath: String?

        /// `connection` as libpq is given it: with the credentials' password and client key added
        /// (a secret from here on: only ever handed to the store, never shown).
        func connectionWithSecrets(_ connection: PostgresConnectionString) -> String {
            var text = connection.unredacted
            if let password { text = connection.setting("password", to: password.value) }
            if let clientKeyPath, let withPassword = try? PostgresConnectionString(text) { text = withPassword.setting("sslkey", to: clientKeyPath) }
            return text
        }

        /// The default `store.nodeId`: the host's name and this process's id.
        package static var defaultNodeID: String {
            let host = ProcessInfo.processInfo.hostName.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
            return "\(String(host).prefix(40))-\(getpid())"
        }
    }

    /// A database password read from a credential: its description is masked, so that it
    /// cannot reach a log line or an error by accident.
    package struct PostgresPassword: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
        package let value: String
        package init(_ value: String) { self.value = value }
        package var description: String { PostgresConnectionString.mask }
        package var debugDescription: String { PostgresConnectionString.mask }
    }
}

extension Configuration {
    /// The store the config names, as Store opens it: the one place a config becomes a
    /// `StoreConfiguration`.
    package var storeConfiguration: StoreConfiguration {
        switch store {
        case .sqlite(let files):
            return .sqlite(path: files.path, keysPath: files.keysPath)
        case .postgres(let settings):
            return .postgres(PostgresStoreSettings(
                connectionString: settings.connectionWithSecrets(settings.connection),
                keysConnectionString: settings.connectionWithSecrets(settings.keysConnection),
                poolSize: settings.poolSize, nodeID: settings.nodeID
            ))
        }
    }
}

extension Configuration.StoreSettings {
    /// The `store` section; nil when it names neither form (or both), with the problem.
    init?(section: ConfigurationSection?, _ problems: inout ConfigurationProblems) {
        guard let section else { return nil }
        let sqliteKeys = ["path", "keysPath"].filter { section.object[$0] != nil }
        let postgresKeys = ["postgres", "postgresKeys", "poolSize", "nodeId"].filter { section.object[$0] != nil }
        if section.object["path"] != nil, section.object["postgres"] != nil {
            problems.add(section.path, "give either path (SQLite) or postgres (PostgreSQL), not both")
            return nil
        }
        if let path = section.file("path") {
            if !postgresKeys.isEmpty {
                problems.add(section.setting(postgresKeys[0]), "belongs to a PostgreSQL store; this one is SQLite (store.path)")
                return nil
            }
            self = .init(path: path, keysPath: section.file("keysPath") ?? StoreConfiguration.defaultKeysPath(forStoreAt: path))
            return
        }
        guard let text = section.string("postgres"), !problems.names(section.setting("postgres")) else {
            if !problems.names(section.path) && section.object["postgres"] == nil {
                problems.add(section.setting("path"), "missing (or give store.postgres for PostgreSQL)")
            }
            return nil
        }
        if !sqliteKeys.isEmpty {
            problems.add(section.setting(sqliteKeys[0]), "belongs to a SQLite store; this one is PostgreSQL (store.postgres)")
            return nil
        }
        guard let connection = Self.connection(text, setting: section.setting("postgres"), &problems) else { return nil }
        var keysConnection: PostgresConnectionString
        if let keysText = section.string("postgresKeys") {
            guard let keys = Self.connection(keysText, setting: section.setting("postgresKeys"), &problems) else { return nil }
            keysConnection = keys
            if keys.value("dbname") == connection.value("dbname") && keys.hosts == connection.hosts && keys.value("port") == connection.value("port") {
                problems.add(
                    section.setting("postgresKeys"),
                    "names the same database as store.postgres: the subject keys need a database of their own, backed up and kept apart from the data"
                )
                return nil
            }
        } else {
            guard let name = connection.value("dbname"), !name.isEmpty else {
                problems.add(
                    section.setting("postgres"),
                    "name the database (dbname=..., or /NAME in a URL), so that the subject keys' database (NAME_keys) follows from it; or give store.postgresKeys"
                )
                return nil
            }
            guard let keys = try? PostgresConnectionString(connection.setting("dbname", to: "\(name)_keys")) else { return nil }
            keysConnection = keys
        }
        var settings = Configuration.PostgresSettings(
            connection: connection, keysConnection: keysConnection, nodeID: section.string("nodeId") ?? Configuration.PostgresSettings.defaultNodeID
        )
        if let size = section.integer("poolSize") { settings.poolSize = Int(size) }
        self = .postgres(settings)
    }

    /// A connection string read, and refused when it holds a secret (naming where it is, never it).
    private static func connection(_ text: String, setting: String, _ problems: inout ConfigurationProblems) -> PostgresConnectionString? {
        let parsed: PostgresConnectionString
        do {
            parsed = try PostgresConnectionString(text)
        } catch {
            problems.add(setting, "cannot be read: \(error)")
            return nil
        }
        let secrets = parsed.secretSettings
        guard secrets.isEmpty else {
            problems.add(
                setting,
                "holds a password (\(secrets.joined(separator: ", "))): a config file is no place for it; remove it and pass it as the systemd credential postgres-password (LoadCredential=postgres-password:/etc/credstore/refex.postgres-password), or name a passfile (passfile=/path, mode 0600)"
            )
            return nil
        }
        return parsed
    }
}

/// Whether this build has the PostgreSQL store (`store.postgres`).
package enum PostgresSupport {
    package static let isBuilt = true
}
