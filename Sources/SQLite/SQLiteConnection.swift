import Foundation
internal import CSQLite

/// One SQLite database connection. Not thread-safe: made and used on one thread (the store's
/// writer, or one reader), never shared.
package final class SQLiteConnection {
    private let database: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    package let path: String

    package enum Mode: Sendable { case readWrite, readOnly }

    /// Opens (creating if needed, in read-write mode) the database at `path`.
    package init(path: String, mode: Mode = .readWrite) throws(SQLiteError) {
        var database: OpaquePointer?
        let flags = (mode == .readWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let code = sqlite3_open_v2(path, &database, flags, nil)
        guard code == SQLITE_OK, let database else {
            let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let database { sqlite3_close_v2(database) }
            throw SQLiteError(code: code, message: "cannot open \(path): \(message)")
        }
        self.database = database
        self.path = path
        sqlite3_extended_result_codes(database, 1)
        // Another connection's write lock: wait rather than fail at once.
        sqlite3_busy_timeout(database, 5000)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(database)
    }

    /// Runs SQL with no parameters and no results (may hold several statements).
    package func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(database, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(database))
            sqlite3_free(message)
            throw SQLiteError(code: code, message: text, sql: sql)
        }
    }

    /// A cached prepared statement for `sql`.
    package func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        let statement = try SQLiteStatement(database: database, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs one statement with `values` bound to ?1…?n and returns its rows.
    @discardableResult
    package func query(_ sql: String, _ values: [any SQLiteBindable] = []) throws(SQLiteError) -> [SQLiteRow] {
        try statement(sql).query(values.map(\.sqliteValue))
    }

    /// Calls `body` with each row as it is read (for results too large to hold), until it returns false.
    package func iterate(_ sql: String, _ values: [any SQLiteBindable] = [], _ body: (SQLiteRow) throws -> Bool) throws {
        try statement(sql).iterate(values.map(\.sqliteValue), body)
    }

    /// The first row, if any.
    package func first(_ sql: String, _ values: [any SQLiteBindable] = []) throws(SQLiteError) -> SQLiteRow? {
        try query(sql, values).first
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(database)) }

    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(database) }

    package var isInTransaction: Bool { sqlite3_get_autocommit(database) == 0 }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` takes the write lock at once); rolls back if it throws.
    package func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The SQLite library version, e.g. 3.40.1.
    package static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
