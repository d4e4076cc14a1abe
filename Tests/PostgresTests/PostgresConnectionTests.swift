import Postgres
import TestSupport
import XCTest

/// The libpq wrapper against a real server (a throwaway cluster shared by these tests).
final class PostgresConnectionTests: XCTestCase {
    nonisolated(unsafe) private static var cluster: PostgresCluster?
    nonisolated(unsafe) private static var startError = ""
    private var connection: PostgresConnection!

    override class func setUp() {
        super.setUp()
        do {
            cluster = try PostgresCluster()
        } catch {
            startError = "\(error)"
        }
    }

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        let cluster = try XCTUnwrap(Self.cluster, "the throwaway PostgreSQL cluster did not start: \(Self.startError)")
        connection = try PostgresConnection(connectionString: cluster.connectionString(database: try cluster.createDatabase(prefix: "conn")))
    }

    func testValuesRoundTripInBinaryIncludingNullsEmptyBytesAndExtremes() throws {
        try connection.execute("CREATE TABLE t (i BIGINT, b BOOLEAN, d DOUBLE PRECISION, s TEXT, y BYTEA)")
        let rows: [(Int64, Bool, Double, String, [UInt8])] = [
            (Int64.min, true, -1.5, "", []), (Int64.max, false, 0, "héllo ✓ x", [0, 255, 0]), (-1, true, .infinity, "'; DROP TABLE t; --", Array(repeating: 7, count: 70_000)),
        ]
        for (i, b, d, s, y) in rows {
            XCTAssertEqual(try connection.update("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [i, b, d, s, y]), 1)
        }
        try connection.query("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [Int64?.none, Bool?.none, Double?.none, String?.none, [UInt8]?.none])
        let read = try connection.query("SELECT i, b, d, s, y FROM t ORDER BY i NULLS LAST")
        XCTAssertEqual(read.count, 4)
        XCTAssertEqual(read[0].values, [.integer(Int64.min), .boolean(true), .double(-1.5), .text(""), .bytes([])])
        XCTAssertEqual(read[1].values, [.integer(-1), .boolean(true), .double(.infinity), .text("'; DROP TABLE t; --"), .bytes(Array(repeating: 7, count: 70_000))])
        XCTAssertEqual(read[2][0], .integer(Int64.max))
        XCTAssertEqual(read[2][3], .text("héllo ✓ x"))
        XCTAssertEqual(read[3].values, [.null, .null, .null, .null, .null])
        // Smaller integer types read as integers too; a type refex does not read is a clear error.
        XCTAssertEqual(try connection.first("SELECT 7::smallint, -7::integer")?.values, [.integer(7), .integer(-7)])
        XCTAssertThrowsError(try connection.query("SELECT 1.5::numeric")) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .value)
        }
    }

    func testErrorsCarryTheirSQLState() throws {
        try connection.execute("CREATE TABLE u (k TEXT PRIMARY KEY)")
        try connection.query("INSERT INTO u VALUES ($1)", ["a"])
        XCTAssertThrowsError(try connection.query("INSERT INTO u VALUES ($1)", ["a"])) { error in
            guard let error = error as? PostgresError else { return XCTFail("\(error)") }
            XCTAssertTrue(error ~= SQLState.uniqueViolation, "\(error)")
            XCTAssertEqual(error.kind, .server)
            XCTAssertFalse(error.isUnavailable)
        }
        XCTAssertThrowsError(try connection.query("SELECT * FROM missing_table")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, SQLState.undefinedTable.code)
        }
        try connection.execute("BEGIN READ ONLY")
        XCTAssertThrowsError(try connection.query("INSERT INTO u VALUES ($1)", ["b"])) { error in
            XCTAssertTrue((error as? PostgresError).map { $0 ~= SQLState.readOnlySQLTransaction } ?? false, "\(error)")
        }
        XCTAssertTrue(connection.isInFailedTransaction)
        try connection.execute("ROLLBACK")
        XCTAssertFalse(connection.isInTransaction)
    }

    func testAPreparedStatementIsReusedAndSettingsAreRead() throws {
        for value in 0..<20 {
            XCTAssertEqual(try connection.first("SELECT $1::bigint + 1", [value])?.integer(0), Int64(value + 1))
        }
        XCTAssertEqual(try connection.setting("fsync"), "on")
        XCTAssertNotNil(connection.parameterStatus("server_version"))
        XCTAssertGreaterThanOrEqual(connection.serverVersion, 120000)
    }

    func testAFailedConnectionNamesNeitherThePasswordNorTheConnectionString() throws {
        let cluster = try XCTUnwrap(Self.cluster)
        let secret = "s3cret-Pa55word"
        let string = "host=\(cluster.folder) port=\(cluster.port + 1) user=refex password=\(secret) dbname=nowhere connect_timeout=2"
        XCTAssertThrowsError(try PostgresConnection(connectionString: string)) { error in
            guard let error = error as? PostgresError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .connectionFailed)
            XCTAssertTrue(error.isUnavailable)
            XCTAssertFalse("\(error)".contains(secret), "\(error)")
            XCTAssertFalse("\(error)".contains("password="), "\(error)")
        }
        for string in [
            "postgresql://refex:\(secret)@localhost:1/nowhere?connect_timeout=2",
            // A malformed string: libpq's own message would quote the bad part, here the password.
            "postgresql://refex:\(secret)%zz@localhost:1/nowhere", "host=x password='\(secret) dbname=y", "host=x \(secret)=1",
        ] {
            XCTAssertThrowsError(try PostgresConnection(connectionString: string)) { error in
                XCTAssertEqual((error as? PostgresError)?.kind, .connectionFailed)
                XCTAssertFalse("\(error)".contains(secret), "\(error)")
            }
        }
    }

    func testAConnectionWhoseBackendIsKilledReportsItLost() throws {
        let cluster = try XCTUnwrap(Self.cluster)
        let pid = try XCTUnwrap(try connection.first("SELECT pg_backend_pid()")?.integer(0))
        let admin = try PostgresConnection(connectionString: cluster.connectionString())
        XCTAssertEqual(try admin.first("SELECT pg_terminate_backend($1::integer)", [pid])?[0].boolean, true)
        XCTAssertThrowsError(try connection.query("SELECT 1")) { error in
            guard let error = error as? PostgresError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isUnavailable, "\(error)")
        }
        XCTAssertFalse(connection.isConnected)
    }

    func testOverridesReplaceTheDatabaseAndDefaultsYieldToTheString() throws {
        let cluster = try XCTUnwrap(Self.cluster)
        let name = try cluster.createDatabase(prefix: "over")
        let keys = try PostgresConnection(
            connectionString: cluster.connectionString(database: name),
            defaults: [("application_name", "refex-default"), ("dbname", "ignored")], overrides: [("dbname", "\(name)_keys")]
        )
        XCTAssertEqual(keys.databaseName, "\(name)_keys")
        XCTAssertEqual(try keys.setting("application_name"), "refex-default")
        let named = try PostgresConnection(
            connectionString: cluster.connectionString(database: name) + " application_name=mine", defaults: [("application_name", "refex-default")]
        )
        XCTAssertEqual(try named.setting("application_name"), "mine")
    }
}
