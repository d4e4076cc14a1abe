/// Versioned schema migrations kept in `PRAGMA user_version`.
package struct SQLiteMigrator: Sendable {
    /// Migration n (1-based) takes the database from version n-1 to n.
    package var migrations: [String]

    package init(_ migrations: [String]) { self.migrations = migrations }

    package var latestVersion: Int { migrations.count }

    /// Applies every migration the database has not had, each in its own transaction.
    /// A database newer than this binary is refused: running old code on it could corrupt it.
    package func migrate(_ connection: SQLiteConnection) throws {
        let version = Int(try connection.first("PRAGMA user_version")?.integer(0) ?? 0)
        if version > latestVersion {
            throw SQLiteError(
                SQLiteError.genericError,
                message: "the database \(connection.path) is at schema version \(version), newer than this refex (\(latestVersion)); run a newer refex or restore a backup"
            )
        }
        for index in version..<latestVersion {
            try connection.transaction {
                try connection.execute(migrations[index])
                try connection.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }

    package func version(of connection: SQLiteConnection) throws -> Int {
        Int(try connection.first("PRAGMA user_version")?.integer(0) ?? 0)
    }
}
