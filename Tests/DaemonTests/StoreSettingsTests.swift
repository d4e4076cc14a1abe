import Exchange
import Foundation
import JSON
import Store
import TestSupport
import XCTest
@testable import Daemon

/// `store`: SQLite (`path`, `keysPath`) or PostgreSQL (`postgres`, `postgresKeys`, `poolSize`,
/// `nodeId`), exactly one; a connection string that holds a password is refused, naming the
/// setting and never the value; the password and client key come from credentials.
final class StoreSettingsTests: XCTestCase {
    private static let catalog = Result { try SchemaCatalog(folder: "\(ProjectPaths.root)/schemas") }
    private let secret = "s3cr3t-Pa55"

    private func decode(_ store: JSONValue) throws -> (configuration: Configuration?, problems: [String]) {
        let document: JSONObject = [
            "listen": "127.0.0.1:8443", "ops": "127.0.0.1:9090",
            "tls": ["certificate": "server.crt", "privateKey": "/keys/server.key", "clientCA": "ca.crt"],
            "store": store, "masterKey": "master.key",
            "partners": [["id": "police", "name": "Police", "roles": ["refer"], "certificates": [["sha256": .string(String(repeating: "ab", count: 32))]]]],
        ]
        var problems = ConfigurationProblems()
        let schema = try XCTUnwrap(ConfigurationSchema(catalog: try Self.catalog.get()))
        let configuration = Configuration(document: .object(document), path: "/etc/refex/refex.json", schema: schema, &problems)
        return (configuration, problems.lines)
    }

    private func postgres(_ configuration: Configuration?) -> Configuration.PostgresSettings? {
        if case .postgres(let settings)? = configuration?.store { settings } else { nil }
    }

    func testReadsAPostgresStoreWithItsDefaults() throws {
        let (configuration, problems) = try decode(["postgres": "host=db1,db2 dbname=refex user=refex target_session_attrs=read-write sslmode=verify-full"])
        XCTAssertEqual(problems, [])
        let settings = try XCTUnwrap(postgres(configuration))
        XCTAssertEqual(settings.connection.hosts, ["db1", "db2"])
        XCTAssertEqual(settings.keysConnection.value("dbname"), "refex_keys", "the same server, a database of its own")
        XCTAssertEqual(settings.keysConnection.hosts, ["db1", "db2"])
        XCTAssertEqual(settings.poolSize, 8)
        XCTAssertFalse(settings.nodeID.isEmpty)
        XCTAssertNil(settings.password)
    }

    func testReadsEveryPostgresSetting() throws {
        let (configuration, problems) = try decode([
            "postgres": "postgresql://refex@db1/refex?sslmode=verify-full", "postgresKeys": "postgresql://refex@keys1/refexkeys",
            "poolSize": 20, "nodeId": "node-a",
        ])
        XCTAssertEqual(problems, [])
        let settings = try XCTUnwrap(postgres(configuration))
        XCTAssertEqual(settings.keysConnection.hosts, ["keys1"])
        XCTAssertEqual(settings.poolSize, 20)
        XCTAssertEqual(settings.nodeID, "node-a")
    }

    func testExactlyOneFormOfStore() throws {
        XCTAssertEqual(try decode(["path": "refex.db", "postgres": "dbname=refex"]).problems,
                       ["store: give either path (SQLite) or postgres (PostgreSQL), not both"])
        XCTAssertEqual(try decode(["path": "refex.db", "poolSize": 4]).problems,
                       ["store.poolSize: belongs to a PostgreSQL store; this one is SQLite (store.path)"])
        XCTAssertEqual(try decode(["postgres": "dbname=refex", "keysPath": "k.db"]).problems,
                       ["store.keysPath: belongs to a SQLite store; this one is PostgreSQL (store.postgres)"])
        XCTAssertEqual(try decode(["poolSize": 4]).problems, ["store.path: missing (or give store.postgres for PostgreSQL)"])
        XCTAssertEqual(try decode(["postgres": "host=db1"]).problems.count, 1)
        XCTAssertTrue(try decode(["postgres": "host=db1"]).problems[0].hasPrefix("store.postgres: name the database"))
        XCTAssertTrue(try decode(["postgres": "dbname=refex", "postgresKeys": "dbname=refex"]).problems[0].hasPrefix("store.postgresKeys: names the same database"))
        XCTAssertTrue(try decode(["postgres": "dbname=refex", "nodeId": "Node A"]).problems[0].hasPrefix("store.nodeId: must be 1-64 characters"))
    }

    func testAPasswordInAConnectionStringIsRefusedNamingTheSettingNotTheValue() throws {
        let cases: [(JSONObject, String)] = [
            (["postgres": .string("host=db1 dbname=refex password=\(secret)")], "store.postgres: holds a password (password)"),
            (["postgres": .string("host=db1 dbname=refex password='\(secret) x'")], "store.postgres: holds a password (password)"),
            (["postgres": .string("postgresql://refex:\(secret)@db1/refex")], "store.postgres: holds a password (the URL's user:password@)"),
            (["postgres": .string("postgresql://refex@db1/refex?password=\(secret)")], "store.postgres: holds a password (password)"),
            (["postgres": .string("postgresql://refex@db1/refex?pass%77ord=\(secret)")], "store.postgres: holds a password (password)"),
            (["postgres": .string("host=db1 dbname=refex sslpassword=\(secret)")], "store.postgres: holds a password (sslpassword)"),
            (["postgres": .string("host=db1 dbname='host=db2 password=\(secret)'")], "store.postgres: holds a password (dbname: password)"),
            (["postgres": "dbname=refex", "postgresKeys": .string("dbname=keys password=\(secret)")], "store.postgresKeys: holds a password (password)"),
            (["postgres": .string("host=db1 password='\(secret)")], "store.postgres: cannot be read: the value of password opens a quote"),
        ]
        for (store, expected) in cases {
            let problems = try decode(.object(store)).problems
            XCTAssertEqual(problems.count, 1, "\(problems)")
            XCTAssertTrue(problems.first?.hasPrefix(expected) ?? false, "expected \(expected), got \(problems)")
            XCTAssertFalse(problems.joined().contains("s3cr3t"), "\(problems)")
        }
    }

    func testThePasswordAndClientKeyComeFromCredentialsAndNeverShow() throws {
        let folder = ProjectPaths.temporaryDirectory("refex-pg-credentials")
        try Data("\(secret)\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/postgres-password"))
        try Data("key".utf8).write(to: URL(fileURLWithPath: "\(folder)/postgres-client-key"))
        let settings = try XCTUnwrap(postgres(try decode(["postgres": "host=db1 dbname=refex sslmode=verify-full"]).configuration))
        var problems = ConfigurationProblems()
        let loaded = ConfigurationLoader.loadStoreCredentials(.postgres(settings), environment: ["CREDENTIALS_DIRECTORY": folder], &problems)
        guard case .postgres(let withSecrets) = loaded else { return XCTFail("\(loaded)") }
        XCTAssertEqual(withSecrets.password?.value, secret)
        XCTAssertEqual(withSecrets.clientKeyPath, "\(folder)/postgres-client-key")
        XCTAssertFalse("\(withSecrets)".contains("s3cr3t"), "a settings value printed shows no password")
        XCTAssertFalse(String(reflecting: withSecrets).contains("s3cr3t"))
        XCTAssertFalse(problems.lines.joined().contains("s3cr3t"))
    }
}
