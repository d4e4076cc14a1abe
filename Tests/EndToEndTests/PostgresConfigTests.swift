import Foundation
import JSON
import TestSupport
import XCTest

/// `store.postgres` from the outside: a password in the config is refused by `config check` and at
/// start, naming the setting and never the value; `refex backup` says what to use instead; and a
/// password passed as a credential reaches the database but never a log line, `/readyz` or `/metrics`.
final class PostgresConfigTests: XCTestCase {
    private let secret = "s3cr3t-Pa55"

    private func cli(_ arguments: [String], environment: [String: String]? = nil) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments, environment: environment, timeout: 60)
    }

    private func write(_ store: JSONValue) throws -> String {
        var config = try RefexProcess.config()
        config["store"] = store
        let path = ProjectPaths.temporaryDirectory("refex-pg-config") + "/refex.json"
        try RefexProcess.write(config, to: path)
        return path
    }

    func testAPasswordInTheConfigIsRefusedByConfigCheckAndAtStartNamingOnlyTheSetting() throws {
        let stores: [(JSONValue, String)] = [
            (["postgres": .string("host=db1 dbname=refex user=refex password=\(secret)")], "store.postgres: holds a password (password)"),
            (["postgres": .string("postgresql://refex:\(secret)@db1,db2/refex?target_session_attrs=read-write")], "store.postgres: holds a password (the URL's user:password@)"),
            (["postgres": "host=db1 dbname=refex", "postgresKeys": .string("host=db1 dbname=keys password='\(secret) x'")], "store.postgresKeys: holds a password (password)"),
        ]
        for (store, expected) in stores {
            let path = try write(store)
            let check = try cli(["config", "check", "--config", path])
            XCTAssertEqual(check.status, 1, check.output)
            XCTAssertTrue(check.errorOutput.contains(expected), check.errorOutput)
            let serve = try cli(["serve", "--config", path])
            XCTAssertEqual(serve.status, 1, serve.output)
            XCTAssertTrue(serve.errorOutput.contains(expected), serve.errorOutput)
            for text in [check.output, check.errorOutput, serve.output, serve.errorOutput] {
                XCTAssertFalse(text.contains("s3cr3t"), text)
            }
        }
    }

    func testBackupOfAPostgreSQLStoreSaysWhatToUseInstead() throws {
        let path = try write(["postgres": "postgresql://refex@db1/refex?sslmode=verify-full&passfile=/run/pgpass"])
        let destination = ProjectPaths.temporaryDirectory("refex-pg-backup")
        let backup = try cli(["backup", destination, "--config", path])
        XCTAssertEqual(backup.status, 1)
        XCTAssertTrue(backup.errorOutput.contains("pg_dump"), backup.errorOutput)
        XCTAssertTrue(backup.errorOutput.contains("refex_keys"), "the keys database, after the data: \(backup.errorOutput)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination), [], "nothing written")
    }

    func testAPasswordFromACredentialNeverShowsInLogsReadinessOrMetrics() throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let database = try cluster.createDatabase()
        let credentials = ProjectPaths.temporaryDirectory("refex-pg-credentials")
        try Data("\(secret)\n".utf8).write(to: URL(fileURLWithPath: "\(credentials)/postgres-password"))
        // From here on the cluster asks for the password (SCRAM), so only the credential lets refex in.
        try cluster.administer("ALTER ROLE \(PostgresCluster.user) PASSWORD '\(secret)'")
        try Data("local all all scram-sha-256\n".utf8).write(to: URL(fileURLWithPath: "\(cluster.folder)/data/pg_hba.conf"))
        try cluster.administer("SELECT pg_reload_conf()")
        var config = try RefexProcess.config()
        config["store"] = ["postgres": .string(cluster.connectionString(database: database)), "nodeId": "node-a"]
        config["logLevel"] = "debug"
        let without = try cli(["config", "check", "--config", try write(config["store"] ?? .null)])
        XCTAssertEqual(without.status, 1, "without the credential the database refuses: \(without.output)")
        let refex = try RefexProcess(config: config, environment: ["CREDENTIALS_DIRECTORY": credentials])
        XCTAssertEqual(try refex.request("POST", "/v1/referrals", try JSONValue.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json")))
        )).status, 202)
        let metrics = try XCTUnwrap(try Curl.request(["\(refex.opsURL)/metrics"], as: nil).response?.body)
        XCTAssertTrue(metrics.contains("refex_store_pool_connections "), metrics)
        XCTAssertTrue(metrics.contains("refex_store_log_head_lock_commits_total "), metrics)
        // The database goes away: errors, readiness and logs name it, never the secret.
        cluster.stopServer(mode: "immediate")
        XCTAssertEqual(try refex.request("POST", "/v1/referrals", .object(["referenceId": "x"])).status / 100, 4, "refused before the store")
        let refused = try refex.request("POST", "/v1/consents", .object([:]))
        XCTAssertNotEqual(refused.status, 500)
        let ready = try Curl.request(["\(refex.opsURL)/readyz"], as: nil).response
        XCTAssertEqual(ready?.status, 503)
        let after = try XCTUnwrap(try Curl.request(["\(refex.opsURL)/metrics"], as: nil).response?.body)
        let check = try cli(["config", "check", "--config", refex.configPath], environment: ["CREDENTIALS_DIRECTORY": credentials])
        for text in [refex.logText, metrics, after, ready?.body ?? "", check.output, check.errorOutput] {
            XCTAssertFalse(text.contains("s3cr3t"), String(text.suffix(3000)))
        }
    }
}
