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
    /// SQLITE_FULL: the disk (or the file size limit) is full.
    package var isDiskFull: Bool { code & 0xFF == 13 }
    /// SQLITE_IOERR and its extended codes: a read, write or sync the operating system refused.
    package var isIOError: Bool { code & 0xFF == 10 }
    /// SQLITE_CORRUPT or SQLITE_NOTADB: the file is damaged or is not a database.
    package var isCorruption: Bool { code & 0xFF == 11 || code & 0xFF == 26 }
    /// SQLITE_READONLY and its extended codes.
    package var isReadOnly: Bool { code & 0xFF == 8 }
    /// SQLITE_INTERRUPT: stopped by `SQLiteConnection.interrupt()`.
    package var isInterrupted: Bool { code & 0xFF == 9 }

    package var description: String {
        if let sql { return "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(code): \(message)"
    }
}
