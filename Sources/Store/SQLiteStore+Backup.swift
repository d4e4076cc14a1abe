import Foundation
import SQLite

extension SQLiteStore {
    /// Copies the store at `path` and `keysPath` (a live one, another process serving from it, or
    /// a stopped one) to `destination` and `keysDestination`, which must not exist yet.
    ///
    /// The two databases are copied one after the other, each as of one commit: **the main database
    /// first, then the keys**. Every key is committed before the data it opens: in the writer's
    /// commit, keys first (see `attempt`), or, for a new subject's key made ahead, in its own
    /// commit before it is handed out (`KeysCommitter`). So every subject in the copied main
    /// database already has its key when the keys are copied a moment later. What the keys copy
    /// may hold beyond that is a key for a subject the main copy does not know yet (or a key made
    /// ahead and never handed out): harmless, it opens nothing. (A key erased in between is missing from the
    /// copy: that subject is erased in the copy too, as it is in the store.) Copying the keys first
    /// would do the opposite: data committed between the two copies would have no key, unreadable.
    ///
    /// Each copy is written beside its destination under a temporary name, switched to
    /// rollback-journal mode (one self-contained file), checked with `PRAGMA quick_check`, made
    /// readable by its owner only, and renamed into place only when both are complete.
    package static func backup(
        path: String, keysPath: String, to destination: String, keysDestination: String, timeout: Duration = .seconds(30)
    ) throws(StoreError) -> StoreBackupSummary {
        let files = FileManager.default
        for source in [path, keysPath] where !files.fileExists(atPath: source) {
            throw StoreError("there is no store file at \(source)")
        }
        for target in [destination, keysDestination] {
            if files.fileExists(atPath: target) {
                throw StoreError("\(target) already exists: give a new name or an empty folder (a backup never overwrites)")
            }
            let folder = (target as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            if !folder.isEmpty && !(files.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue) {
                throw StoreError("the folder \(folder) does not exist")
            }
        }
        if destination == keysDestination { throw StoreError("the data and the keys need two different destination files") }

        let suffix = ".partial-\(getpid())"
        let partial = (main: destination + suffix, keys: keysDestination + suffix)
        func discardPartial() {
            for file in [partial.main, partial.keys] {
                for extra in ["", "-journal", "-wal", "-shm"] { unlink(file + extra) }
            }
        }
        var summary = StoreBackupSummary(path: destination, keysPath: keysDestination, pages: 0, keyPages: 0, logEntries: 0, logHead: "", subjects: 0, subjectKeys: 0)
        do {
            // The order matters: main first, then keys (see above).
            let mainCopy = try copy(path, to: partial.main, timeout: timeout)
            summary.pages = mainCopy.pages
            summary.logEntries = Int64(try SQLiteTransaction.count(mainCopy.connection, "SELECT count(*) FROM log_entries", table: "log_entries"))
            summary.logHead = try mainCopy.connection.first(
                "SELECT hash FROM (SELECT hash, seq FROM log_entries UNION ALL SELECT hash, seq FROM log_anchor) ORDER BY seq DESC LIMIT 1"
            ).map { try StrictRow($0, table: "log_entries", columns: ["hash"]).text(0) } ?? "-"
            summary.subjects = Int64(try SQLiteTransaction.count(
                mainCopy.connection, "SELECT count(*) FROM subjects WHERE erased_at IS NULL", table: "subjects"
            ))

            let keysCopy = try copy(keysPath, to: partial.keys, timeout: timeout)
            summary.keyPages = keysCopy.pages
            try keysCopy.connection.execute("ATTACH DATABASE \(quoted(partial.main)) AS data")
            summary.subjectKeys = Int64(try SQLiteTransaction.count(
                keysCopy.connection, "SELECT count(*) FROM data.subjects s JOIN subject_keys k ON k.subject_id = s.id WHERE s.erased_at IS NULL",
                table: "subject_keys"
            ))
            try keysCopy.connection.execute("DETACH DATABASE data")
        } catch let error as StoreError {
            discardPartial()
            throw error
        } catch {
            discardPartial()
            throw StoreError("\(error)")
        }
        // Both copies are closed (their connections went out of scope): put them in place.
        for (from, to) in [(partial.main, destination), (partial.keys, keysDestination)] {
            chmod(from, 0o600)
            guard rename(from, to) == 0 else {
                let reason = String(cString: strerror(errno))
                discardPartial()
                throw StoreError("cannot rename \(from) to \(to): \(reason)")
            }
        }
        syncFolder(of: destination)
        syncFolder(of: keysDestination)
        return summary
    }

    /// One database copied to `target` as one self-contained, checked file.
    private static func copy(_ source: String, to target: String, timeout: Duration) throws -> (connection: SQLiteConnection, pages: Int) {
        let from: SQLiteConnection
        do {
            from = try SQLiteConnection(path: source, mode: .readOnly)
        } catch {
            throw StoreError("cannot read the store file \(source): \(error.message)")
        }
        let to: SQLiteConnection
        do {
            to = try SQLiteConnection(path: target)
        } catch {
            throw StoreError("cannot write \(target): \(error.message)")
        }
        let pages = try from.backup(to: to, timeout: timeout)
        // A copy of a WAL database is a WAL database; as a backup it should be one file.
        try to.query("PRAGMA journal_mode = DELETE")
        let check = try to.query("PRAGMA quick_check").map { $0.text(0) ?? "(not a text)" }
        guard check == ["ok"] else {
            throw StoreError("the copy of \(source) fails its integrity check: \(check.prefix(3).joined(separator: "; "))")
        }
        return (to, pages)
    }

    private static func quoted(_ path: String) -> String {
        "'" + path.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// Makes the renames durable.
    private static func syncFolder(of file: String) {
        let folder = (file as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        Foundation.close(fd)
    }
}
