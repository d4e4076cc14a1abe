import Foundation
import XCTest
@testable import SQLite

final class SQLiteConnectionTests: XCTestCase {
    private func connection() throws -> SQLiteConnection {
        try SQLiteConnection(path: NSTemporaryDirectory() + "sqlite-\(UUID().uuidString).db")
    }

    func testBindsAndReadsEveryType() throws {
        let db = try connection()
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        try db.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [Int64.max, 1.5, "héllo", [UInt8]([0, 1, 255]), String?.none])
        try db.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [0, 0.0, "", [UInt8](), "x"])
        let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        XCTAssertEqual(rows[0][0], .integer(Int64.max))
        XCTAssertEqual(rows[0][1], .real(1.5))
        XCTAssertEqual(rows[0].text(2), "héllo")
        XCTAssertEqual(rows[0].blob(3), [0, 1, 255])
        XCTAssertEqual(rows[0][4], .null)
        XCTAssertEqual(rows[1].blob(3), [], "an empty blob stays a blob")
    }

    func testErrorsCarryTheSQLAndConstraintViolationsAreRecognised() throws {
        let db = try connection()
        try db.execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
        try db.query("INSERT INTO t VALUES (?)", ["a"])
        XCTAssertThrowsError(try db.query("INSERT INTO t VALUES (?)", ["a"])) { error in
            let sqlite = error as? SQLiteError
            XCTAssertEqual(sqlite?.isConstraintViolation, true)
            XCTAssertEqual(sqlite?.sql, "INSERT INTO t VALUES (?)")
        }
        XCTAssertThrowsError(try db.query("SELEC nonsense"))
    }

    func testTransactionRollsBackWhenTheBodyThrows() throws {
        let db = try connection()
        try db.execute("CREATE TABLE t (x INTEGER)")
        struct Stop: Error {}
        XCTAssertThrowsError(try db.transaction { try db.query("INSERT INTO t VALUES (1)"); throw Stop() })
        XCTAssertEqual(try db.first("SELECT count(*) FROM t")?.integer(0), 0)
        XCTAssertFalse(db.isInTransaction)
    }

    func testMigratorAppliesInOrderAndRefusesNewerDatabases() throws {
        let db = try connection()
        let migrator = SQLiteMigrator(["CREATE TABLE a (x)", "CREATE TABLE b (y)"])
        try migrator.migrate(db)
        XCTAssertEqual(try migrator.version(of: db), 2)
        try migrator.migrate(db)
        XCTAssertThrowsError(try SQLiteMigrator(["CREATE TABLE a (x)"]).migrate(db))
    }
}

final class SQLiteCopyAndCheckTests: XCTestCase {
    func testAnImmutableCopyCreatesNothingBesideItAndRefusesWrites() throws {
        let folder = NSTemporaryDirectory() + "sqlite-copy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/odd name?#%.db"
        do {
            let writer = try SQLiteConnection(path: path)
            try writer.execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a'), ('b');")
            XCTAssertEqual(try writer.quickCheck(limit: .seconds(5)), [])
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: folder)
        let reader = try SQLiteConnection(path: path, mode: .immutableCopy)
        XCTAssertEqual(try reader.first("SELECT count(*) FROM t")?.integer(0), 2)
        XCTAssertThrowsError(try reader.execute("INSERT INTO t VALUES ('c')")) { error in
            XCTAssertTrue((error as? SQLiteError)?.isReadOnly == true, "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), before)
        XCTAssertThrowsError(try SQLiteConnection(path: "\(folder)/missing.db", mode: .readWriteExisting))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/missing.db"))
    }
}
