import Foundation

/// The SQLite store's files themselves, for the tests whose point is those files: tampering with
/// rows to prove that `log verify` and the integrity checks catch it, `strings` after erasure,
/// backups, the WAL, a full disk. Tests that read state go through refex instead
/// (`RefexProcess+Reads.swift`), so that they run against any store; tests using these are
/// marked `sqliteOnly` and skipped when the store under test is not SQLite.
package enum SQLiteFiles {
    /// The store the end-to-end tests run against: `REFEX_TEST_STORE` (default `sqlite`).
    package static var storeUnderTest: String { ProcessInfo.processInfo.environment["REFEX_TEST_STORE"] ?? "sqlite" }

    /// Whether the store under test keeps its state in SQLite files that a test may open.
    package static var isStoreUnderTest: Bool { storeUnderTest == "sqlite" }

    /// Runs `statements` on the database file at `path` with the sqlite3 command (waiting up to
    /// 10 s for a lock); its output, trimmed. Throws when sqlite3 fails.
    @discardableResult
    package static func run(_ path: String, _ statements: String) throws -> String {
        let result = try Subprocess.run("sqlite3", ["-cmd", ".timeout 10000", path, statements])
        guard result.status == 0 else { throw SubprocessError(description: "sqlite3 \(path) \(statements): \(result.errorOutput)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `refex.db` → `refex-keys.db`: the keys database beside a main database, as refex names it.
    package static func keysPath(for path: String) -> String {
        path.replacingOccurrences(of: ".db", with: "-keys.db")
    }
}

extension RefexProcess {
    /// Inspects or tampers with this process's main SQLite database file directly (see
    /// `SQLiteFiles`): for SQLite-specific tests only, never to read state that refex can report.
    @discardableResult
    package func sqliteFile(_ statements: String) throws -> String {
        try SQLiteFiles.run(storePath, statements)
    }

    /// The keys database file beside the main one.
    package var keysPath: String { SQLiteFiles.keysPath(for: storePath) }
}
