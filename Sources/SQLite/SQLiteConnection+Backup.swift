import Foundation
internal import CSQLite

extension SQLiteConnection {
    /// Copies this whole database into `destination` with SQLite's online backup API
    /// (`sqlite3_backup_init`, `_step`, `_finish`), while other connections and processes go on
    /// reading and writing it. Returns the number of pages copied.
    ///
    /// The copy is made in one step, that is in one read transaction on this database: it is the
    /// database as of one commit. (A copy made in several steps starts again whenever another
    /// process commits between them, and might never finish under load.) A WAL database is read
    /// without blocking its writer; a rollback-journal database holds off commits while it is read.
    /// Another connection's lock is waited out for up to `timeout`.
    package func backup(to destination: SQLiteConnection, timeout: Duration = .seconds(30)) throws(SQLiteError) -> Int {
        guard let backup = sqlite3_backup_init(destination.database, "main", database, "main") else {
            throw SQLiteError(
                code: sqlite3_extended_errcode(destination.database),
                message: "cannot back up \(path) to \(destination.path): \(String(cString: sqlite3_errmsg(destination.database)))"
            )
        }
        let deadline = ContinuousClock.now + timeout
        var code: Int32
        while true {
            code = sqlite3_backup_step(backup, -1)
            let step = SQLiteError.Code(rawValue: code)
            guard SQLiteError.busy ~= step || SQLiteError.locked ~= step, ContinuousClock.now < deadline else { break }
            // Another connection holds a lock the copy needs: wait a little, as a busy handler would.
            sqlite3_sleep(20)
        }
        let pages = Int(sqlite3_backup_pagecount(backup))
        // finish releases the backup whatever happened; its code repeats any error of the last step.
        let finished = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finished == SQLITE_OK else {
            let failed = code == SQLITE_DONE ? finished : code
            let reason = String(cString: sqlite3_errstr(failed))
            let detail = SQLiteError(code: failed, message: reason).isBusy
                ? "\(reason): the database stayed locked for \(timeout.components.seconds) s"
                : "\(reason): \(String(cString: sqlite3_errmsg(destination.database)))"
            throw SQLiteError(code: failed, message: "cannot back up \(path) to \(destination.path): \(detail)")
        }
        return pages
    }
}
