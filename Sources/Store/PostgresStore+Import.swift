import Crypto
import Foundation
import Logging
import Postgres

/// An empty PostgreSQL store taking a copy (`refex store migrate --to CONNECTION`): its schema
/// made and its identity recorded for the master key by opening it as `refex serve` does, then
/// both databases filled in one transaction each, keys committed first.
package final class PostgresStoreImport: StoreImporting {
    private let main: PostgresConnection
    private let keys: PostgresConnection
    private let databaseName: String
    private let keysDatabaseName: String
    private var keysCommitted = false

    /// Creates the store in the (existing, empty) databases `settings` names, or opens the one
    /// there, checking that it is `masterKey`'s. Throws `StoreError`, never showing the
    /// connection string.
    package init(settings: PostgresStoreSettings, masterKey: SymmetricKey) throws {
        let store = try PostgresStore(settings: settings, logger: Logger(sink: InMemoryLogSink(), level: .critical), masterKey: masterKey, creation: .whenBothMissing)
        databaseName = store.databaseName
        keysDatabaseName = store.keysDatabaseName
        store.close()
        let keysOverrides = settings.keysConnectionString == nil ? [("dbname", "\(databaseName)_keys")] : []
        let defaults = [("connect_timeout", "10"), ("application_name", "refex store migrate")]
        do {
            main = try PostgresConnection(connectionString: settings.connectionString, defaults: defaults)
            keys = try PostgresConnection(connectionString: settings.keysConnectionString ?? settings.connectionString, defaults: defaults, overrides: keysOverrides)
        } catch {
            throw StoreError("cannot reach the PostgreSQL database \(databaseName) to copy into it (\(error.message))", kind: .unavailable)
        }
    }

    package var importDescription: String { "PostgreSQL databases \(databaseName) and \(keysDatabaseName)" }

    private func connection(_ table: StoreTable) -> PostgresConnection { table.database == .data ? main : keys }

    private func name(_ table: StoreTable) -> String { table.database == .data ? databaseName : keysDatabaseName }

    package func beginImport() throws {
        do {
            for table in StoreTable.all where !table.replacesTargetRows {
                if try connection(table).first("SELECT 1 FROM \(table.name) LIMIT 1") != nil {
                    throw StoreError(
                        "the target PostgreSQL database \(name(table)) is not empty (\(table.name) has rows): a store is copied only into an empty one",
                        kind: .identity
                    )
                }
            }
            try keys.execute("BEGIN")
            try main.execute("BEGIN")
            for table in StoreTable.all where table.replacesTargetRows {
                try connection(table).execute("DELETE FROM \(table.name)")
            }
        } catch let error as PostgresError {
            throw PostgresStore.storeError(error, database: databaseName)
        }
    }

    package func importRows(_ table: StoreTable, _ rows: [[StoreCell]]) throws {
        guard !rows.isEmpty else { return }
        let width = table.columns.count
        var placeholders: [String] = []
        var values: [any PostgresBindable] = []
        values.reserveCapacity(rows.count * width)
        for (index, row) in rows.enumerated() {
            placeholders.append("(" + (1...width).map { "$\(index * width + $0)" }.joined(separator: ", ") + ")")
            for cell in row {
                switch cell {
                case .null: values.append(PostgresValue.null)
                case .integer(let value): values.append(PostgresValue.integer(value))
                case .text(let value): values.append(PostgresValue.text(value))
                case .blob(let value): values.append(PostgresValue.bytes(value))
                }
            }
        }
        let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES \(placeholders.joined(separator: ", "))"
        do {
            _ = try connection(table).query(sql, values)
        } catch {
            throw StoreError("copying \(table.name) into the PostgreSQL database \(name(table)) failed: \(error)")
        }
    }

    package func commitImport() throws {
        do {
            try keys.execute("COMMIT")
        } catch {
            throw PostgresStore.storeError(error, database: keysDatabaseName)
        }
        keysCommitted = true
        do {
            try main.execute("COMMIT")
        } catch {
            throw StoreError(
                "the subject keys were copied into \(keysDatabaseName) but the data could not be committed to \(databaseName) (\(error)): empty both databases (DROP and CREATE them) and run the copy again"
            )
        }
    }

    package func abortImport() {
        if !keysCommitted { try? keys.execute("ROLLBACK") }
        try? main.execute("ROLLBACK")
    }
}
