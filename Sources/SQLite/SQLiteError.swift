/// A SQLite call failed: its result code, SQLite's message and the SQL it was running.
package struct SQLiteError: Error, Sendable, CustomStringConvertible {
    package var code: Int32
    package var message: String
    package var sql: String?

    package init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// SQLITE_CONSTRAINT and its extended codes.
    package var isConstraintViolation: Bool { code & 0xFF == 19 }
    /// SQLITE_BUSY or SQLITE_LOCKED.
    package var isBusy: Bool { code & 0xFF == 5 || code & 0xFF == 6 }

    package var description: String {
        if let sql { return "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(code): \(message)"
    }
}
