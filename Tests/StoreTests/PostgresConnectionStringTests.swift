import Store
import XCTest

/// The one redaction of connection strings: no secret survives into what refex shows, in any of
/// the forms libpq reads one.
final class PostgresConnectionStringTests: XCTestCase {
    private let secret = "s3cr3t-Pa55"

    private func assertHidden(_ text: String, secretSettings expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let parsed = try PostgresConnectionString(text)
        XCTAssertEqual(parsed.secretSettings, expected, file: file, line: line)
        let shown = parsed.redacted
        XCTAssertFalse(shown.contains("s3cr3t"), "leaked in \(shown)", file: file, line: line)
        XCTAssertFalse(shown.contains("s3cr3t".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x"), file: file, line: line)
        XCTAssertFalse(PostgresConnectionString.redact(text).contains("s3cr3t"), file: file, line: line)
        if !expected.isEmpty { XCTAssertTrue(shown.contains(PostgresConnectionString.mask), shown, file: file, line: line) }
    }

    func testRedactsPasswordInKeywordForm() throws {
        try assertHidden("host=db1 dbname=refex user=refex password=\(secret)", secretSettings: ["password"])
        XCTAssertEqual(
            try PostgresConnectionString("host=db1 dbname=refex password=\(secret) sslmode=verify-full").redacted,
            "host=db1 dbname=refex password=*** sslmode=verify-full"
        )
    }

    func testRedactsQuotedPasswordsWithSpacesQuotesAndBackslashes() throws {
        try assertHidden("host=db1 password='\(secret) with space' dbname=refex", secretSettings: ["password"])
        try assertHidden("host=db1 password = '\(secret) \\' quoted' dbname=refex", secretSettings: ["password"])
        try assertHidden("password=\(secret)\\ escaped host=db1", secretSettings: ["password"])
        let parsed = try PostgresConnectionString("host=db1 password = 'a b\\'c' dbname=refex")
        XCTAssertEqual(parsed.value("password"), "a b'c")
        XCTAssertEqual(parsed.value("dbname"), "refex")
    }

    func testRedactsSSLPasswordAndUpperCaseKeys() throws {
        try assertHidden("host=db1 sslpassword=\(secret) sslkey=/run/key", secretSettings: ["sslpassword"])
        try assertHidden("host=db1 PASSWORD=\(secret)", secretSettings: ["password"])
    }

    func testRedactsURLUserInfoAndQueryPasswords() throws {
        try assertHidden("postgresql://refex:\(secret)@db1/refex", secretSettings: ["the URL's user:password@"])
        XCTAssertEqual(try PostgresConnectionString("postgresql://refex:\(secret)@db1:5432/refex").redacted, "postgresql://refex:***@db1:5432/refex")
        try assertHidden("postgres://refex@db1/refex?password=\(secret)&sslmode=verify-full", secretSettings: ["password"])
        try assertHidden("postgresql://db1/refex?pass%77ord=\(secret)", secretSettings: ["password"])
    }

    func testRedactsPercentEncodedPasswords() throws {
        let encoded = "s3cr3t%40%3A%2F"  // s3cr3t@:/
        let parsed = try PostgresConnectionString("postgresql://refex:\(encoded)@db1/refex")
        XCTAssertEqual(parsed.urlPassword, "s3cr3t@:/")
        XCTAssertFalse(parsed.redacted.contains("s3cr3t"))
        XCTAssertFalse(parsed.redacted.contains("%40"))
        try assertHidden("postgresql://refex@db1/refex?password=%73%33cr3t", secretSettings: ["password"])
    }

    func testReadsSeveralHostsInBothForms() throws {
        let keywords = try PostgresConnectionString("host=db1,db2 port=5432,5433 dbname=refex target_session_attrs=read-write password=\(secret)")
        XCTAssertEqual(keywords.hosts, ["db1", "db2"])
        XCTAssertEqual(keywords.redacted, "host=db1,db2 port=5432,5433 dbname=refex target_session_attrs=read-write password=***")
        let url = try PostgresConnectionString("postgresql://refex:\(secret)@db1:5432,[::1]:5433,db3/refex?target_session_attrs=read-write")
        XCTAssertEqual(url.hosts, ["db1", "::1", "db3"])
        XCTAssertEqual(url.value("port"), "5432,5433,")
        XCTAssertEqual(url.value("dbname"), "refex")
        XCTAssertEqual(url.redacted, "postgresql://refex:***@db1:5432,[::1]:5433,db3/refex?target_session_attrs=read-write")
    }

    func testRedactsAConnectionStringHiddenInDbname() throws {
        try assertHidden("host=db1 dbname='host=db2 password=\(secret)'", secretSettings: ["dbname: password"])
        try assertHidden("dbname=postgresql://u:\(secret)@db2/x", secretSettings: ["dbname: the URL's user:password@"])
        try assertHidden("postgresql://db1/?dbname=host%3Ddb2%20password%3D\(secret)", secretSettings: ["dbname: password"])
    }

    func testLeavesAStringWithoutSecretsAsItWas() throws {
        let text = "host=db1 dbname=refex user=refex sslmode=verify-full sslcert=/etc/refex/pg.crt sslrootcert=/etc/refex/pg-ca.crt passfile=/run/pgpass"
        let parsed = try PostgresConnectionString(text)
        XCTAssertEqual(parsed.secretSettings, [])
        XCTAssertEqual(parsed.redacted, text)
    }

    func testAnUnreadableStringIsNeverShownAndItsErrorQuotesNothing() {
        for text in ["host=db1 password='\(secret)", "host=db1 \(secret)", "postgresql://u:\(secret)%zz@db1/x", "=\(secret)"] {
            XCTAssertEqual(PostgresConnectionString.redact(text), "(unreadable connection string)", text)
            do {
                _ = try PostgresConnectionString(text)
                XCTFail("read \(text)")
            } catch {
                XCTAssertFalse("\(error)".contains("s3cr3t"), "\(error)")
            }
        }
    }

    func testSettingAKeyKeepsTheForm() throws {
        let keywords = try PostgresConnectionString("host=db1 dbname=refex")
        XCTAssertEqual(keywords.setting("dbname", to: "refex keys"), "host=db1 dbname=refex dbname='refex keys'")
        let url = try PostgresConnectionString("postgresql://db1/refex?sslmode=require")
        XCTAssertEqual(url.setting("dbname", to: "refex_keys"), "postgresql://db1/refex?sslmode=require&dbname=refex_keys")
        XCTAssertEqual(try PostgresConnectionString(url.setting("dbname", to: "refex_keys")).value("dbname"), "refex_keys")
    }

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
            XCTAssertFalse(location.contains("s3cret") || location.contains("cret"), location)
            XCTAssertFalse(PostgresConnectionString.redact(string).contains("cret"), PostgresConnectionString.redact(string))
        }
    }
}
