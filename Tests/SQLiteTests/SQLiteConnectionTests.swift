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

/// Errors carry SQLite's extended code, matchable by kind (`catch SQLiteError.constraint`) or exactly.
final class SQLiteErrorCodeTests: XCTestCase {
    private func connection() throws -> SQLiteConnection {
        try SQLiteConnection(path: NSTemporaryDirectory() + "sqlite-\(UUID().uuidString).db")
    }

    func testConstraintViolationsAreCaughtByKindAndByExtendedCode() throws {
        let db = try connection()
        try db.execute("PRAGMA foreign_keys = ON; CREATE TABLE p (id TEXT PRIMARY KEY); CREATE TABLE c (p TEXT REFERENCES p(id), n TEXT NOT NULL, u TEXT UNIQUE)")
        try db.query("INSERT INTO p VALUES ('a')")
        var caught: [String] = []
        do {
            try db.query("INSERT INTO p VALUES ('a')")
        } catch SQLiteError.constraintUnique {
            caught.append("unique (wrongly: a primary key is its own extended code)")
        } catch SQLiteError.constraintPrimaryKey {
            caught.append("primary key")
        } catch {
            XCTFail("\(error)")
        }
        do {
            try db.query("INSERT INTO c VALUES ('missing', 'n', 'u')")
        } catch SQLiteError.constraintForeignKey {
            caught.append("foreign key")
        } catch {
            XCTFail("\(error)")
        }
        do {
            try db.query("INSERT INTO c VALUES ('a', NULL, 'u')")
        } catch SQLiteError.busy {
            XCTFail("not busy")
        } catch SQLiteError.constraint {
            caught.append("constraint")
        } catch {
            XCTFail("\(error)")
        }
        XCTAssertEqual(caught, ["primary key", "foreign key", "constraint"])
        XCTAssertThrowsError(try db.query("INSERT INTO p VALUES ('a')")) { error in
            let sqlite = error as? SQLiteError
            XCTAssertEqual(sqlite?.code, SQLiteError.constraintPrimaryKey, "the extended code is kept")
            XCTAssertEqual(sqlite?.code.primary, SQLiteError.constraint)
            XCTAssertTrue(sqlite?.message.contains("UNIQUE constraint failed") == true, "\(error)")
            XCTAssertTrue("\(error)".contains("1555"), "\(error)")
            XCTAssertTrue("\(error)".contains("SQLITE_CONSTRAINT_PRIMARYKEY"), "\(error)")
        }
    }

    func testAPrimaryPatternMatchesItsExtendedCodesAndAnExtendedOneOnlyItself() {
        let readOnlyRollback = SQLiteError(code: 776, message: "")
        XCTAssertTrue(SQLiteError.readOnly ~= readOnlyRollback)
        XCTAssertTrue(SQLiteError.readOnlyRollback ~= readOnlyRollback)
        XCTAssertFalse(SQLiteError.readOnlyRollback ~= SQLiteError(code: 8, message: ""))
        XCTAssertFalse(SQLiteError.constraint ~= readOnlyRollback)
        XCTAssertTrue(readOnlyRollback.isReadOnly)
        let notSQLite: any Error = CocoaError(.fileNoSuchFile)
        XCTAssertFalse(SQLiteError.readOnly ~= notSQLite)
        XCTAssertTrue(SQLiteError(code: 26, message: "").isCorruption)
        XCTAssertTrue(SQLiteError(code: 6, message: "").isBusy)
        XCTAssertTrue(SQLiteError(code: 13, message: "").isDiskFull)
    }

    func testSyntaxErrorsAndMissingFilesHaveTheirCodes() throws {
        let db = try connection()
        XCTAssertThrowsError(try db.query("SELEC nonsense")) { error in
            guard case SQLiteError.genericError = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try SQLiteConnection(path: "/nonexistent-\(UUID().uuidString)/x.db", mode: .readWriteExisting)) { error in
            XCTAssertTrue(SQLiteError.cantOpen ~= error, "\(error)")
        }
    }
}

/// Prepared statements are reused, and SQL built at run time does not grow the cache without bound.
final class StatementCacheTests: XCTestCase {
    func testManyDistinctStatementsKeepTheCacheAtItsBoundAndEvictedOnesAreFinalized() throws {
        let db = try SQLiteConnection(path: NSTemporaryDirectory() + "sqlite-\(UUID().uuidString).db", statementCacheCapacity: 8)
        try db.execute("CREATE TABLE t (x INTEGER)")
        try db.query("INSERT INTO t VALUES (?)", [1])
        for count in 1...200 {
            // An IN list of `count` parameters: a different statement each time, as a filter builds.
            let placeholders = Array(repeating: "?", count: count).joined(separator: ", ")
            let rows = try db.query("SELECT count(*) FROM t WHERE x IN (\(placeholders))", Array(1...count))
            XCTAssertEqual(rows.first?.integer(0), 1)
            XCTAssertLessThanOrEqual(db.cachedStatementCount, 8)
        }
        XCTAssertEqual(db.cachedStatementCount, 8)
        XCTAssertEqual(db.preparedStatementCount, 8, "the 192 evicted statements were finalized")
        // A statement evicted long ago is prepared again and still answers.
        XCTAssertEqual(try db.first("SELECT count(*) FROM t WHERE x IN (?)", [1])?.integer(0), 1)
        XCTAssertEqual(db.cachedStatementCount, 8)
    }

    func testTheMostRecentlyUsedStatementStaysAndOneBeingIteratedFinishesWhenEvicted() throws {
        let db = try SQLiteConnection(path: NSTemporaryDirectory() + "sqlite-\(UUID().uuidString).db", statementCacheCapacity: 2)
        try db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
        do {
            let kept = try db.statement("SELECT x FROM t ORDER BY x")
            _ = try db.statement("SELECT 1")
            XCTAssertTrue(try db.statement("SELECT x FROM t ORDER BY x") === kept, "used again: most recent")
            _ = try db.statement("SELECT 2")  // evicts SELECT 1, the least recently used
            XCTAssertTrue(try db.statement("SELECT x FROM t ORDER BY x") === kept)
        }
        var seen: [Int64] = []
        try db.iterate("SELECT x FROM t ORDER BY x") { row in
            seen.append(row.integer(0) ?? -1)
            // Each row brings new statements, evicting the one being iterated, which carries on.
            _ = try db.query("SELECT \(seen.count + 10)")
            _ = try db.query("SELECT \(seen.count + 20)")
            return true
        }
        XCTAssertEqual(seen, [1, 2, 3])
        XCTAssertEqual(db.cachedStatementCount, 2)
        XCTAssertEqual(db.preparedStatementCount, 2, "the iterated statement was finalized once it finished")
    }
}
