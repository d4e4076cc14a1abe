import Crypto
import Exchange
import Foundation
import Logging
import Postgres
import Store
import TestSupport
import XCTest

/// The copy seam (`StoreTable.all`, `StoreCopy`): it carries every column of every table of both
/// stores but the identity, so that a migration added later cannot leave a column behind, and a
/// copy is refused a source in use or a target that is not empty.
final class StoreCopyTests: XCTestCase {
    private func sqliteColumns(_ database: String) throws -> [String: Set<String>] {
        let script = """
        import json, sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        print(json.dumps({t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}))
        """
        let result = try Subprocess.run("python3", ["-c", script, database])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: [String]])
        return parsed.mapValues(Set.init)
    }

    private func catalogue(_ database: StoreTable.Database) -> [String: Set<String>] {
        Dictionary(uniqueKeysWithValues: StoreTable.all.filter { $0.database == database }.map { ($0.name, Set($0.columns)) })
    }

    func testTheCopyCarriesEveryColumnOfTheSQLiteStore() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-copy-schema")
        try StoreConfiguration.sqlite(path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db").create(masterKey: .random())
        var data = try sqliteColumns("\(folder)/refex.db")
        var keys = try sqliteColumns("\(folder)/refex-keys.db")
        data["store_identity"] = nil
        keys["store_identity"] = nil
        // Derived: refex writes the waiting blind-index entries at its next start; a copy refuses a
        // source that still has any (testASourceWithBlindIndexEntriesStillToWriteIsRefused).
        data["subject_index_pending"] = nil
        // Derived: the target's triggers count the rows as the copy inserts them.
        data["store_counts"] = nil
        XCTAssertEqual(data, catalogue(.data))
        XCTAssertEqual(keys, catalogue(.keys))
    }

    func testTheCopyCarriesEveryColumnOfThePostgreSQLStore() throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let database = try cluster.createDatabase()
        let settings = PostgresStoreSettings(connectionString: cluster.connectionString(database: database), poolSize: 1, nodeID: "test")
        try StoreConfiguration.postgres(settings).create(masterKey: .random())
        for (name, kind) in [(database, StoreTable.Database.data), ("\(database)_keys", .keys)] {
            let connection = try PostgresConnection(connectionString: cluster.connectionString(database: name))
            let rows = try connection.query(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN ('store_identity', 'refex_schema_version', 'store_counts') AND NOT (table_name = 'disclosures' AND column_name = 'row_order')"
            )
            var found: [String: Set<String>] = [:]
            for row in rows { found[row.text(0) ?? "", default: []].insert(row.text(1) ?? "") }
            XCTAssertEqual(found, catalogue(kind), name)
        }
    }

    func testACopyIsRefusedASourceInUseAndATargetThatIsNotEmpty() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-copy")
        let key = SymmetricKey.random()
        let source = StoreConfiguration.sqlite(path: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db")
        try source.create(masterKey: key)
        let target = StoreConfiguration.sqlite(path: "\(folder)/target.db", keysPath: "\(folder)/target-keys.db")

        do {
            // The store open (as a running refex holds it) until the end of this block.
            let open = try source.open(logger: Logger(sink: InMemoryLogSink()), masterKey: key)
            open.start()
            XCTAssertThrowsError(try target.copy(fromSQLite: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db", masterKey: key)) { error in
                XCTAssertTrue("\(error)".contains("is in use"), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/target.db"), "nothing made for a copy that could not start")
            open.close()
        }

        // Closed, its threads let go of the files a moment later: then the copy goes through.
        var copied: StoreCopySummary?
        XCTAssertTrue(waitUntil(timeout: 10) {
            copied = try? target.copy(fromSQLite: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db", masterKey: key)
            return copied != nil
        })
        let summary = try XCTUnwrap(copied)
        XCTAssertEqual(summary.count("subjects"), 0)
        XCTAssertEqual(summary.count("subject_index_backfill"), 1, "the source's cursor replaces the new store's")
        // Another key than the source's is refused before anything is read.
        XCTAssertThrowsError(try StoreConfiguration.sqlite(path: "\(folder)/other.db", keysPath: "\(folder)/other-keys.db")
            .copy(fromSQLite: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db", masterKey: .random()))
        // Into itself: refused.
        XCTAssertThrowsError(try source.copy(fromSQLite: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db", masterKey: key))
    }

    func testASourceWithBlindIndexEntriesStillToWriteIsRefused() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-copy-pending")
        let key = SymmetricKey.random()
        let source = StoreConfiguration.sqlite(path: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db")
        try source.create(masterKey: key)
        // As a refex killed between a referral's commit and its blind-index entries leaves it.
        let insert = try Subprocess.run("python3", [
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(\"INSERT INTO subject_index_pending (referral_id) VALUES ('00000000-0000-4000-8000-000000000001')\"); db.commit()",
            "\(folder)/source.db",
        ])
        XCTAssertEqual(insert.status, 0, insert.errorOutput)
        let target = StoreConfiguration.sqlite(path: "\(folder)/target.db", keysPath: "\(folder)/target-keys.db")
        XCTAssertThrowsError(try target.copy(fromSQLite: "\(folder)/source.db", keysPath: "\(folder)/source-keys.db", masterKey: key)) { error in
            XCTAssertTrue("\(error)".contains("await their blind-index entries"), "\(error)")
            XCTAssertTrue("\(error)".contains("start refex on this store once"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/target.db"), "nothing made for a copy that could not start")
    }
}
