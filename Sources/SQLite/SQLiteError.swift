/// A SQLite call failed: its result code (extended, as SQLite gave it), SQLite's message and the
/// SQL it was running.
///
/// Match the kind of failure with a pattern, as GRDB's `DatabaseError` does:
///
///     do { … } catch SQLiteError.constraint { … }          // any SQLITE_CONSTRAINT_*
///     catch SQLiteError.readOnlyRollback { … }             // exactly SQLITE_READONLY_ROLLBACK
///
/// A primary code (`constraint`) matches every extended code under it; an extended code matches
/// only itself. Source: https://www.sqlite.org/rescode.html
package struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// A SQLite result code, primary (the low byte) or extended.
    package struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        package var rawValue: Int32

        package init(rawValue: Int32) { self.rawValue = rawValue }

        /// The primary code this one belongs to (itself when it is primary).
        package var primary: Code { Code(rawValue: rawValue & 0xFF) }

        package var isPrimary: Bool { rawValue & ~0xFF == 0 }

        /// Whether `code` is this code, or (when this is a primary code) one of its extended codes.
        package static func ~= (pattern: Code, code: Code) -> Bool {
            pattern.isPrimary ? pattern == code.primary : pattern == code
        }

        /// `catch SQLiteError.constraint`: whether `error` is a SQLiteError with this code.
        package static func ~= (pattern: Code, error: any Error) -> Bool {
            guard let error = error as? SQLiteError else { return false }
            return pattern ~= error.code
        }

        /// The same, for code that throws `SQLiteError` alone (typed throws).
        package static func ~= (pattern: Code, error: SQLiteError) -> Bool {
            pattern ~= error.code
        }

        package var description: String {
            let name = Code.names[rawValue] ?? Code.names[rawValue & 0xFF].map { "\($0) (extended \(rawValue))" }
            return name ?? "code \(rawValue)"
        }

        private static let names: [Int32: String] = [
            1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY", 6: "SQLITE_LOCKED",
            7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT",
            12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 17: "SQLITE_SCHEMA",
            18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS",
            23: "SQLITE_AUTH", 25: "SQLITE_RANGE", 26: "SQLITE_NOTADB",
            776: "SQLITE_READONLY_ROLLBACK", 1555: "SQLITE_CONSTRAINT_PRIMARYKEY", 2067: "SQLITE_CONSTRAINT_UNIQUE",
            787: "SQLITE_CONSTRAINT_FOREIGNKEY", 1299: "SQLITE_CONSTRAINT_NOTNULL", 3091: "SQLITE_CONSTRAINT_DATATYPE",
        ]
    }

    /// The extended result code (`sqlite3_extended_errcode`); `code.primary` is its kind.
    package var code: Code
    package var message: String
    package var sql: String?

    package init(_ code: Code, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// From a C result code (primary or extended).
    package init(code: Int32, message: String, sql: String? = nil) {
        self.init(Code(rawValue: code), message: message, sql: sql)
    }

    package var description: String {
        if let sql { return "SQLite error \(code.rawValue) (\(code)): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(code.rawValue) (\(code)): \(message)"
    }
}

// The primary codes, for `catch SQLiteError.busy` and `switch error.code { case SQLiteError.full: … }`.
extension SQLiteError {
    /// SQLITE_ERROR: a generic error (bad SQL, a missing table).
    package static let genericError = Code(rawValue: 1)
    package static let `internal` = Code(rawValue: 2)
    package static let permission = Code(rawValue: 3)
    package static let abort = Code(rawValue: 4)
    package static let busy = Code(rawValue: 5)
    package static let locked = Code(rawValue: 6)
    package static let noMemory = Code(rawValue: 7)
    package static let readOnly = Code(rawValue: 8)
    package static let interrupt = Code(rawValue: 9)
    package static let ioError = Code(rawValue: 10)
    package static let corrupt = Code(rawValue: 11)
    package static let notFound = Code(rawValue: 12)
    package static let full = Code(rawValue: 13)
    package static let cantOpen = Code(rawValue: 14)
    package static let `protocol` = Code(rawValue: 15)
    package static let schema = Code(rawValue: 17)
    package static let tooBig = Code(rawValue: 18)
    package static let constraint = Code(rawValue: 19)
    package static let mismatch = Code(rawValue: 20)
    package static let misuse = Code(rawValue: 21)
    package static let range = Code(rawValue: 25)
    package static let notADatabase = Code(rawValue: 26)

    // Extended codes refex tells apart.
    /// SQLITE_READONLY_ROLLBACK: a hot journal that only a connection that may write can roll back.
    package static let readOnlyRollback = Code(rawValue: 776)
    /// SQLITE_CONSTRAINT_UNIQUE.
    package static let constraintUnique = Code(rawValue: 2067)
    /// SQLITE_CONSTRAINT_PRIMARYKEY.
    package static let constraintPrimaryKey = Code(rawValue: 1555)
    /// SQLITE_CONSTRAINT_FOREIGNKEY.
    package static let constraintForeignKey = Code(rawValue: 787)

    /// SQLITE_CONSTRAINT and its extended codes.
    package var isConstraintViolation: Bool { SQLiteError.constraint ~= code }
    /// SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock.
    package var isBusy: Bool { SQLiteError.busy ~= code || SQLiteError.locked ~= code }
    /// SQLITE_FULL: the disk (or the file size limit) is full.
    package var isDiskFull: Bool { SQLiteError.full ~= code }
    /// SQLITE_IOERR and its extended codes: a read, write or sync the operating system refused.
    package var isIOError: Bool { SQLiteError.ioError ~= code }
    /// SQLITE_CORRUPT or SQLITE_NOTADB: the file is damaged or is not a database.
    package var isCorruption: Bool { SQLiteError.corrupt ~= code || SQLiteError.notADatabase ~= code }
    /// SQLITE_READONLY and its extended codes.
    package var isReadOnly: Bool { SQLiteError.readOnly ~= code }
    /// SQLITE_INTERRUPT: stopped by `SQLiteConnection.interrupt()`.
    package var isInterrupted: Bool { SQLiteError.interrupt ~= code }
}
