import Crypto
import Foundation
import Logging
import SQLite

/// A stopped SQLite store read out for `refex store migrate`. Both files are held under an
/// exclusive lock for as long as this lives, so that no refex starts on them mid-copy; a store
/// that a running refex (or anything else) has open is refused.
package final class SQLiteStoreExport: StoreExporting {
    package let path: String
    package let keysPath: String
    private let main: SQLiteConnection
    private let keys: SQLiteConnection
    /// Per table, the `order` value of the last row read (keyset paging).
    private var lastKey: [String: SQLiteValue] = [:]

    /// Opens the store at `path` and `keysPath`, checking that it is one store and `masterKey`'s,
    /// and locks both files. Throws `StoreError` naming the file and what to do.
    package init(path: String, keysPath: String, masterKey: SymmetricKey) throws {
        self.path = path
        self.keysPath = keysPath
        for file in [path, keysPath] where !FileManager.default.fileExists(atPath: file) {
            throw StoreError("there is no store file at \(file)", kind: .missing)
        }
        do {
            main = try SQLiteConnection(path: path, mode: .readWriteExisting)
            keys = try SQLiteConnection(path: keysPath, mode: .readWriteExisting)
            try Self.lock(main, file: path)
            try Self.lock(keys, file: keysPath)
            try StoreIdentity.check(
                main: try StoreIdentity.read(main), keys: try StoreIdentity.read(keys), path: path, keysPath: keysPath, masterKey: masterKey
            )
            try StoreIdentity.checkHalvesAgree(main: main, keys: keys, path: path, keysPath: keysPath)
            if try main.first("SELECT 1 FROM sqlite_master WHERE name = 'log_entries'") == nil {
                throw StoreError("\(path) is not a refex store (it has no disclosure log)", kind: .identity)
            }
            // Blind-index entries still to be written after a crash (issue 17's deferred index) are
            // derived rows a copy does not carry: refex writes them at its next start.
            if try main.first("SELECT 1 FROM sqlite_master WHERE name = 'subject_index_pending'") != nil,
               let found = try main.first("SELECT count(*) FROM subject_index_pending"),
               case let waiting = try StrictRow(found, table: "subject_index_pending", columns: ["count(*)"]).count(0), waiting > 0 {
                throw StoreError(
                    "\(waiting) referral(s) in \(path) still await their blind-index entries (refex stopped before writing them); start refex on this store once, stop it, and migrate again"
                )
            }
            if let problems = try main.quickCheck(limit: .seconds(600)), !problems.isEmpty {
                throw StoreError(SQLiteStore.corruptionAdvice(path, problems.joined(separator: "; ")), kind: .corrupt)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot read the store \(path): \(error)")
        }
    }

    package var exportDescription: String { "\(path) (keys \(keysPath))" }

    /// Takes an exclusive lock held until the connection closes (exclusive locking mode), failing
    /// at once when anyone else has the file open.
    private static func lock(_ connection: SQLiteConnection, file: String) throws {
        try connection.execute("PRAGMA busy_timeout = 0")
        _ = try connection.query("PRAGMA locking_mode = EXCLUSIVE")
        let result = Result { () throws(SQLiteError) in try connection.execute("BEGIN EXCLUSIVE") }
        if case .failure(let error) = result {
            guard error.isBusy else { throw error }
            throw StoreError(
                "\(file) is in use (a refex serving from it, or a host command): stop refex on it (systemctl stop refex) and run the copy again; a store is copied only while stopped",
                kind: .unavailable
            )
        }
    }

    private static func cell(_ value: SQLiteValue, table: StoreTable, index: Int) throws -> StoreCell {
        switch value {
        case .null: return .null
        case .integer(let value): return .integer(value)
        case .text(let value): return .text(value)
        case .blob(let value): return .blob(value)
        case .real: throw StoreError("\(table.name).\(table.columns[index]) holds a number refex never writes there", kind: .malformedRow)
        }
    }

    package func exportRows(_ table: StoreTable, offset: Int, limit: Int) throws -> [[StoreCell]] {
        let connection = table.database == .data ? main : keys
        if offset == 0 { lastKey[table.name] = nil }
        let columns = table.columns.joined(separator: ", ")
        let rows: [SQLiteRow]
        if let last = lastKey[table.name] {
            rows = try connection.query(
                "SELECT \(columns), \(table.order) FROM \(table.name) WHERE \(table.order) > ? ORDER BY \(table.order) LIMIT ?", [last, limit]
            )
        } else {
            rows = try connection.query("SELECT \(columns), \(table.order) FROM \(table.name) ORDER BY \(table.order) LIMIT ?", [limit])
        }
        if let last = rows.last { lastKey[table.name] = last[table.columns.count] }
        var result: [[StoreCell]] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            var cells: [StoreCell] = []
            for index in 0..<table.columns.count { cells.append(try Self.cell(row[index], table: table, index: index)) }
            result.append(cells)
        }
        return result
    }
}

/// An empty SQLite store taking a copy (`refex store migrate --to PATH`): both files opened
/// directly, filled in one transaction each.
package final class SQLiteStoreImport: StoreImporting {
    package let path: String
    package let keysPath: String
    private let main: SQLiteConnection
    private let keys: SQLiteConnection
    private var keysCommitted = false

    /// Opens the store at `path` and `keysPath`, creating it (for `masterKey`) where there is
    /// none. Throws `StoreError`.
    package init(path: String, keysPath: String, masterKey: SymmetricKey) throws {
        self.path = path
        self.keysPath = keysPath
        let files = FileManager.default
        if !files.fileExists(atPath: path) && !files.fileExists(atPath: keysPath) {
            try SQLiteStore.create(path: path, keysPath: keysPath, masterKey: masterKey, now: Int64(Date().timeIntervalSince1970 * 1000))
        }
        // Opening as the daemon does checks the identity and the key, and brings the schema up to date.
        do {
            let store = try SQLiteStore(path: path, keysPath: keysPath, logger: Logger(sink: InMemoryLogSink(), level: .critical), masterKey: masterKey, creation: .never)
            store.close()
            main = try SQLiteConnection(path: path, mode: .readWriteExisting)
            keys = try SQLiteConnection(path: keysPath, mode: .readWriteExisting)
            try keys.execute("PRAGMA secure_delete = ON")
            try main.execute("PRAGMA secure_delete = ON")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot open the target store \(path): \(error)")
        }
    }

    package var importDescription: String { "\(path) (keys \(keysPath))" }

    package func beginImport() throws {
        for table in StoreTable.all where !table.replacesTargetRows {
            let connection = table.database == .data ? main : keys
            if try connection.first("SELECT 1 FROM \(table.name) LIMIT 1") != nil {
                throw StoreError(
                    "the target store \(table.database == .data ? path : keysPath) is not empty (\(table.name) has rows): a store is copied only into an empty one",
                    kind: .identity
                )
            }
        }
        try keys.execute("BEGIN IMMEDIATE")
        try main.execute("BEGIN IMMEDIATE")
        for table in StoreTable.all where table.replacesTargetRows {
            try (table.database == .data ? main : keys).execute("DELETE FROM \(table.name)")
        }
    }

    package func importRows(_ table: StoreTable, _ rows: [[StoreCell]]) throws {
        let connection = table.database == .data ? main : keys
        let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES (\(table.columns.map { _ in "?" }.joined(separator: ", ")))"
        for row in rows {
            var values: [SQLiteValue] = []
            for cell in row {
                switch cell {
                case .null: values.append(.null)
                case .integer(let value): values.append(.integer(value))
                case .text(let value): values.append(.text(value))
                case .blob(let value): values.append(.blob(value))
                }
            }
            _ = try connection.query(sql, values)
        }
    }

    package func commitImport() throws {
        try keys.execute("COMMIT")
        keysCommitted = true
        do {
            try main.execute("COMMIT")
        } catch {
            throw StoreError(
                "the subject keys were copied into \(keysPath) but the data could not be committed to \(path) (\(error)): delete both target files and run the copy again"
            )
        }
    }

    package func abortImport() {
        if !keysCommitted { try? keys.execute("ROLLBACK") }
        try? main.execute("ROLLBACK")
    }
}
