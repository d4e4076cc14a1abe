import Store
import XCTest

/// What refex says about a connection string: its database, never its secret.
final class PostgresConnectionStringTests: XCTestCase {
    func testTheDatabaseNameIsFoundInEveryFormAndNothingElseIsShown() {
        let cases: [(String, String?)] = [
            ("host=db1,db2 dbname=refex user=r password=s3cret target_session_attrs=read-write", "refex"),
            ("dbname='my refex' password='it\\'s secret'", "my refex"),
            ("postgresql://r:s3cret@[::1]:5432/my%20refex", "my refex"),
            ("postgresql://r:s3/cret@db/refex", "refex"),
            ("postgresql://r:s3/cret@db", nil),
            ("host=db password=s3cret", nil),
            ("postgresql://r:s3cret@db1:5432,db2:5432/refex?sslmode=verify-full", "refex"),
            ("postgres://r:s3cret@db/?dbname=other", "other"),
            ("postgresql://r:s3cret@db", nil),
            ("", nil),
        ]
        for (string, expected) in cases {
            XCTAssertEqual(PostgresConnectionString.databaseName(string), expected, string)
            let location = StoreConfiguration.postgres(PostgresStoreSettings(connectionString: string)).location
            XCTAssertFalse(location.contains("s3cret"), location)
        }
    }
}
