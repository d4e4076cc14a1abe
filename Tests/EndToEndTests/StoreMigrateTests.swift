import Foundation
import JSON
import TestSupport
import XCTest

/// `refex store migrate`: a stopped SQLite store with erased, restricted and rectified subjects
/// and a signed, pruned log, copied into an empty store (another SQLite store, and PostgreSQL);
/// everything that was readable is readable there, nothing that was not, and the log verifies.
/// The source is SQLite by definition, so it is built and aged through its files.
final class StoreMigrateTests: XCTestCase {
    nonisolated(unsafe) private static var cluster: PostgresCluster?

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    private static func postgres() throws -> PostgresCluster {
        if let cluster { return cluster }
        let started = try PostgresCluster()
        cluster = started
        return started
    }

    private func cli(_ arguments: [String]) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments, timeout: 180)
    }

    private func signingKey() throws -> String {
        let path = ProjectPaths.temporaryDirectory() + "/log-signing.key"
        XCTAssertEqual(try cli(["keys", "generate", path]).status, 0)
        return path
    }

    private func submit(_ refex: RefexProcess, reference: String, subjectID: String? = nil) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        if let subjectID { object["subjectId"] = .string(subjectID) }
        let response = try refex.request("POST", "/v1/referrals", .object(object))
        XCTAssertEqual(response.status, 202, response.body)
        return response.json ?? .null
    }

    /// What a subject's export says that must survive a copy: documents, consents, disclosures'
    /// states and reasons, restriction and erasure (not the log, which readings extend).
    private func readable(_ export: JSONValue) -> JSONValue {
        var kept: JSONObject = [:]
        for key in ["referrals", "consents", "restricted", "erasedAt", "subjectId"] { kept[key] = export[key] ?? .null }
        kept["disclosures"] = .array((export["disclosures"]?.arrayValue ?? []).map { disclosure in
            var object: JSONObject = [:]
            for key in ["id", "recipient", "service", "state", "reason", "lawfulBasis", "pointers"] { object[key] = disclosure[key] ?? .null }
            return .object(object)
        })
        return .object(kept)
    }

    private struct Source {
        var config: JSONObject
        var storePath: String
        var subjects: [String: String]
        var exports: [String: JSONValue]
        var referrals: [String]
        var prunedThrough: String
    }

    /// A store with four subjects (erased, restricted, rectified, untouched), queued disclosures,
    /// consents, signed checkpoints and a log pruned at a signed checkpoint older than its
    /// retention; refex stopped on it, and what the admin API read from it before it stopped.
    private func makeSource() throws -> Source {
        let key = try signingKey()
        var config = try RefexProcess.config()
        config["log"] = ["signingKey": .string(key), "checkpointEveryEntries": 5]
        config["retention"] = ["logDays": 1]
        let refex = try RefexProcess(config: config)
        // Readings first: the entries that the pruning removes name no row.
        for _ in 0..<3 { try refex.host(["log", "list", "--limit", "1"]) }
        var subjects: [String: String] = [:]
        var referrals: [String] = []
        for name in ["erased", "restricted", "rectified", "untouched"] {
            let receipt = try submit(refex, reference: "MIGRATE-\(name.uppercased())")
            subjects[name] = try XCTUnwrap(receipt["subjectId"]?.stringValue)
            referrals.append(try XCTUnwrap(receipt["id"]?.stringValue))
        }
        let consent: JSONValue = [
            "schema": "urn:refex:schema:consent:1", "referralId": .string(referrals[3]), "purposes": ["domestic-abuse"],
            "obtainedBy": "PC Sam Sample", "obtainedAt": "2026-11-01T10:00:00Z", "method": "verbal",
        ]
        XCTAssertEqual(try refex.request("POST", "/v1/consents", consent).status, 201)
        XCTAssertEqual(try refex.request("POST", "/v1/subjects/\(subjects["erased"] ?? "")/erase", as: "hub-admin").status, 200)
        XCTAssertEqual(try refex.request("POST", "/v1/subjects/\(subjects["restricted"] ?? "")/restrict", as: "hub-admin").status, 200)
        let patch: JSONValue = ["subject": ["name": ["given": "Alexandra"]], "riskOfHarm": "medium"]
        XCTAssertEqual(try refex.request("PATCH", "/v1/subjects/\(subjects["rectified"] ?? "")", patch, as: "hub-admin").status, 200)
        var exports: [String: JSONValue] = [:]
        for (name, subject) in subjects { exports[name] = readable(try refex.subjectExport(subject)) }
        XCTAssertEqual(exports["erased"]?["referrals"]?[0]?["document"], .null)
        XCTAssertEqual(exports["rectified"]?["referrals"]?[0]?["document"]?["subject"]?["name"]?["given"], "Alexandra")
        let storePath = refex.storePath
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0, refex.logText)

        let pruned = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/prune_log.py", storePath, key, "3"])
        XCTAssertEqual(pruned.status, 0, pruned.errorOutput)
        let through = pruned.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let configPath = ProjectPaths.temporaryDirectory() + "/source.json"
        try RefexProcess.write(config, to: configPath)
        let before = try cli(["log", "verify", "--config", configPath])
        XCTAssertEqual(before.status, 0, "the pruned source verifies: \(before.errorOutput)")
        return Source(config: config, storePath: storePath, subjects: subjects, exports: exports, referrals: referrals, prunedThrough: through)
    }

    /// Copies `source` to `target` (as `--to` takes it) and checks the copy through a refex
    /// serving from `targetStore` (the config's `store`).
    private func migrateAndCheck(_ source: Source, to target: String, targetStore: JSONValue) throws {
        let configPath = ProjectPaths.temporaryDirectory() + "/migrate.json"
        try RefexProcess.write(source.config, to: configPath)
        let migrated = try cli(["store", "migrate", "--from", source.storePath, "--to", target, "--config", configPath])
        XCTAssertEqual(migrated.status, 0, migrated.errorOutput + migrated.output)
        XCTAssertTrue(migrated.output.contains("verified: the same log on both sides"), migrated.output)
        XCTAssertTrue(migrated.output.contains("pruned through \(source.prunedThrough)"), migrated.output)
        XCTAssertTrue(migrated.output.contains("signatures checked"), migrated.output)
        XCTAssertTrue(migrated.output.contains("subjects 4"), migrated.output)
        XCTAssertFalse(migrated.output.contains("Alex") || migrated.errorOutput.contains("Alex"), "ids and counts only")

        // Nothing is copied into a store that holds anything.
        let again = try cli(["store", "migrate", "--from", source.storePath, "--to", target, "--config", configPath])
        XCTAssertEqual(again.status, 1, again.output)
        XCTAssertTrue(again.errorOutput.contains("is not empty"), again.errorOutput)

        var config = source.config
        config["store"] = targetStore
        let copy = try RefexProcess(config: config)
        defer { copy.stop() }
        for (name, subject) in source.subjects {
            XCTAssertEqual(readable(try copy.subjectExport(subject)), source.exports[name], "\(name) reads as before")
        }
        for referral in source.referrals {
            XCTAssertEqual(try copy.request("GET", "/v1/referrals/\(referral)").status, 200, referral)
        }
        let verify = try copy.host(["log", "verify"])
        XCTAssertTrue(verify.output.contains(source.prunedThrough), verify.output)
        // The copy takes new work on the same chain.
        _ = try submit(copy, reference: "MIGRATE-AFTER")
        try copy.host(["log", "verify"])
        let erasedAgain = try copy.request("POST", "/v1/referrals", try JSONValue.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json")))
        ).replacing("referenceId", with: "MIGRATE-ERASED"))
        XCTAssertEqual(erasedAgain.status, 410, "the erased subject stays erased: \(erasedAgain.body)")
    }

    func testMigrateCopiesAStoppedStoreIntoAnEmptySQLiteStoreAndBothLogsAgree() throws {
        let source = try makeSource()
        let target = ProjectPaths.temporaryDirectory("refex-migrated") + "/refex.db"
        try migrateAndCheck(source, to: target, targetStore: ["path": .string(target)])
    }

    func testMigrateCopiesAStoppedStoreIntoPostgreSQLAndBothLogsAgree() throws {
        let cluster = try Self.postgres()
        let source = try makeSource()
        let database = try cluster.createDatabase()
        let connection = cluster.connectionString(database: database)
        try migrateAndCheck(source, to: connection, targetStore: ["postgres": .string(connection)])
    }

    func testMigrateRefusesASourceInUseAndAPasswordOnTheCommandLine() throws {
        let refex = try RefexProcess()
        let target = ProjectPaths.temporaryDirectory("refex-migrated") + "/refex.db"
        let busy = try cli(["store", "migrate", "--from", refex.storePath, "--to", target, "--config", refex.configPath])
        XCTAssertEqual(busy.status, 1, busy.output)
        XCTAssertTrue(busy.errorOutput.contains("is in use"), busy.errorOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "nothing made for a copy that could not start")

        let secret = "s3cr3t-Pa55"
        for to in ["host=db1 dbname=refex password=\(secret)", "postgresql://refex:\(secret)@db1/refex"] {
            let refused = try cli(["store", "migrate", "--from", refex.storePath, "--to", to, "--config", refex.configPath])
            XCTAssertEqual(refused.status, 2, refused.output)
            XCTAssertTrue(refused.errorOutput.contains("holds a password"), refused.errorOutput)
            XCTAssertFalse(refused.errorOutput.contains(secret) || refused.output.contains(secret))
        }
        XCTAssertEqual(try cli(["store", "migrate", "--from", refex.storePath, "--config", refex.configPath]).status, 2)
    }
}

private extension JSONValue {
    func replacing(_ key: String, with value: JSONValue) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object[key] = value
        return .object(object)
    }
}
