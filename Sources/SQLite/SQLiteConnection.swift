import Foundation
import Timekeeping
internal import CSQLite

/// One SQLite database connection. Not thread-safe: made and used on one thread (the store's
/// writer, or one reader), never shared.
package final class SQLiteConnection {
    // Internal, not private: the online backup (SQLiteConnection+Backup.swift) pairs two handles.
    let database: OpaquePointer
    private var statements: StatementCache
    package let path: String

    /// Prepared statements kept for reuse, at most: every static statement of the store fits;
    /// SQL built at run time (filters, IN lists) takes turns, the least recently used going first.
    package static let defaultStatementCacheCapacity = 256

    package enum Mode: Sendable {
        /// Read and write, creating the file if it does not exist.
        case readWrite
        /// Read and write an existing file; a missing file is an error (SQLITE_CANTOPEN).
        case readWriteExisting
        /// Read only; SQLite may still create the -shm beside a WAL database.
        case readOnly
        /// Read only a file that nothing else writes (a copy): no lock, no -wal, -shm or journal
        /// file is created beside it (`immutable=1`, RFC 8089 URI).
        case immutableCopy
    }

    /// Opens the database at `path` (creating it only in `.readWrite` mode), keeping up to
    /// `statementCacheCapacity` prepared statements for reuse.
    package init(path: String, mode: Mode = .readWrite, statementCacheCapacity: Int = defaultStatementCacheCapacity) throws(SQLiteError) {
        statements = StatementCache(capacity: max(1, statementCacheCapacity))
        var database: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        var name = path
        switch mode {
        case .readWrite: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWriteExisting: flags |= SQLITE_OPEN_READWRITE
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .immutableCopy:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?mode=ro&immutable=1"
        }
        let code = sqlite3_open_v2(name, &database, flags, nil)
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

    /// A file path as the path of a `file:` URI: `%`, `?` and `#` (and anything not printable
    /// ASCII) percent-encoded.
    static func uriEscaped(_ path: String) -> String {
        var escaped = ""
        for byte in path.utf8 {
            if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "%") && byte != UInt8(ascii: "?") && byte != UInt8(ascii: "#") {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                escaped += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return escaped
    }

    /// Makes the statement running on this connection (on another thread) stop with
    /// SQLITE_INTERRUPT as soon as it can. Safe to call from any thread while the connection is open.
    package func interrupt() {
        sqlite3_interrupt(database)
    }

    /// `PRAGMA quick_check`, stopped (by `interrupt()` from a timer) once `limit` has passed.
    /// Returns the problems found (empty when the database is sound), or nil when the limit was
    /// reached first. O(N) in the size of the database; checks every page, index entry and
    /// record format, but not that indexes match their tables (`integrity_check` does).
    package func quickCheck(limit: Duration) throws(SQLiteError) -> [String]? {
        let done = DispatchSemaphore(value: 0)
        // sqlite3_interrupt may be called from any thread while the connection is open, which it
        // is until `done` is signalled (the timer waits for that before it ends).
        nonisolated(unsafe) let database = self.database
        let milliseconds = Int(limit.wholeMilliseconds)
        let timer = Thread {
            if done.wait(timeout: .now() + .milliseconds(milliseconds)) == .timedOut {
                sqlite3_interrupt(database)
                done.wait()
            }
        }
        timer.start()
        defer { done.signal() }
        let rows: [SQLiteRow]
        do {
            rows = try query("PRAGMA quick_check(20)")
        } catch where error.isInterrupted {
            return nil
        }
        let messages = rows.compactMap { $0.text(0) }
        return messages == ["ok"] ? [] : messages
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

    /// For tests of query plans: while non-nil, the text of every statement run through this
    /// connection is appended (`EXPLAIN QUERY PLAN` then shows what each would read).
    package var recordedSQL: [String]?

    /// A cached prepared statement for `sql`. When the cache is full the least recently used
    /// statement leaves it, and is finalized once nothing uses it any more.
    package func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        recordedSQL?.append(sql)
        if let cached = statements.take(sql) { return cached }
        let statement = try SQLiteStatement(database: database, sql: sql)
        statements.insert(statement)
        return statement
    }

    /// How many prepared statements the cache holds now.
    package var cachedStatementCount: Int { statements.count }

    /// How many prepared statements exist on this connection (cached, or still in use), as SQLite counts them.
    package var preparedStatementCount: Int {
        var count = 0
        var statement = sqlite3_next_stmt(database, nil)
        while let current = statement {
            count += 1
            statement = sqlite3_next_stmt(database, current)
        }
        return count
    }

    /// The virtual-machine operations SQLite has run for the statements prepared on this
    /// connection now (`SQLITE_STMTSTATUS_VM_STEP`, summed; a finalized statement's are gone):
    /// a measure of the work a reading did that, unlike its time, does not depend on the machine.
    /// Tests compare it before and after an operation to prove the operation does not scan.
    package var virtualMachineSteps: Int {
        var steps = 0
        var statement = sqlite3_next_stmt(database, nil)
        while let current = statement {
            steps += Int(sqlite3_stmt_status(current, Int32(SQLITE_STMTSTATUS_VM_STEP), 0))
            statement = sqlite3_next_stmt(database, current)
        }
        return steps
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

    /// The extended result code of the last call on this connection that failed.
    package var lastErrorCode: SQLiteError.Code { SQLiteError.Code(rawValue: sqlite3_extended_errcode(database)) }

    package var isInTransaction: Bool { sqlite3_get_autocommit(database) == 0 }

    /// Pages this connection wrote to its WAL (or, in rollback-journal mode, its database file)
    /// since the last call, and starts counting again (`SQLITE_DBSTATUS_CACHE_WRITE` with reset:
    /// SQLite's own count is 32 bits, which a long-running writer would overflow).
    package func takePagesWritten() -> Int {
        var current: Int32 = 0
        var highest: Int32 = 0
        guard sqlite3_db_status(database, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highest, 1) == SQLITE_OK else { return 0 }
        return Int(current)
    }

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
