import JSON
import TestSupport
import XCTest

/// `refex config check` and start-up failures, through the built binary.
final class ConfigCheckTests: XCTestCase {
    private func check(_ config: JSONObject) throws -> SubprocessResult {
        let folder = ProjectPaths.temporaryDirectory()
        let path = "\(folder)/refex.json"
        try RefexProcess.write(config, to: path)
        return try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path])
    }

    func testGoodConfigPasses() throws {
        let result = try check(try RefexProcess.config())
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertTrue(result.output.contains("OK"))
    }

    func testEveryProblemIsListed() throws {
        var config = try RefexProcess.config()
        config["colour"] = "blue"
        config["ops"] = "0.0.0.0:9090"
        var tls = config["tls"]?.objectValue ?? [:]
        tls["privateKey"] = .string(try TestPKI.key("police"))
        tls["crl"] = "/nonexistent/crl.pem"
        config["tls"] = .object(tls)
        var partners = config["partners"]?.arrayValue ?? []
        partners.append(["id": "bad", "name": "Bad", "roles": ["refer", "superuser"], "certificates": [["sha256": "12:34"]]])
        partners.append(["id": "police", "name": "Again", "roles": ["refer"], "certificates": [["sha256": .string(String(repeating: "a", count: 64))]]])
        config["partners"] = .array(partners)

        let result = try check(config)
        XCTAssertEqual(result.status, 1)
        let text = result.errorOutput
        for expected in [
            "colour: unknown key",
            "ops: must be a loopback address",
            "tls.crl: cannot read /nonexistent/crl.pem",
            "partners[6].roles[1]: must be one of",
            "partners[6].certificates[0].sha256: is not a SHA-256 fingerprint",
            "partners[7].id: partner police is listed twice",
        ] {
            XCTAssertTrue(text.contains(expected), "missing '\(expected)' in:\n\(text)")
        }
    }

    func testKeyThatDoesNotMatchTheCertificateIsNamed() throws {
        var config = try RefexProcess.config()
        var tls = config["tls"]?.objectValue ?? [:]
        tls["privateKey"] = .string(try TestPKI.key("police"))
        config["tls"] = .object(tls)
        let result = try check(config)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errorOutput.contains("tls.privateKey: does not match the server certificate"), result.errorOutput)
    }

    func testAnExpiredCRLIsNamed() throws {
        var config = try RefexProcess.config()
        var tls = config["tls"]?.objectValue ?? [:]
        tls["crl"] = .string("\(try TestPKI.folder())/expired-crl.pem")
        config["tls"] = .object(tls)
        let result = try check(config)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errorOutput.contains("tls.crl: the CRL expired on 2020-02-01"), result.errorOutput)
    }

    func testUnreadableConfigIsOneClearLine() throws {
        let result = try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", "/nonexistent/refex.json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errorOutput.contains("cannot read the config file /nonexistent/refex.json"), result.errorOutput)
        let bad = ProjectPaths.temporaryDirectory() + "/bad.json"
        try Data("{\"listen\": 1,}".utf8).write(to: URL(fileURLWithPath: bad))
        let parsed = try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", bad])
        XCTAssertEqual(parsed.status, 1)
        XCTAssertTrue(parsed.errorOutput.contains("not valid JSON"), parsed.errorOutput)
    }

    func testPortInUseFailsStartUpWithOneLine() throws {
        let first = try RefexProcess()
        var config = try RefexProcess.config()
        config["listen"] = .string("127.0.0.1:\(first.apiPort)")
        let folder = ProjectPaths.temporaryDirectory()
        try RefexProcess.write(config, to: "\(folder)/refex.json")
        let result = try Subprocess.run(ProjectPaths.refexBinary, ["serve", "--config", "\(folder)/refex.json"], timeout: 20)
        XCTAssertEqual(result.status, 1)
        let lines = result.errorOutput.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.errorOutput)
        XCTAssertTrue(result.errorOutput.contains("cannot listen on 127.0.0.1:\(first.apiPort)"), result.errorOutput)
        XCTAssertTrue(result.errorOutput.contains("Address already in use"), result.errorOutput)
    }

    // MARK: What would silently change a disclosure

    /// The development config with recipient `index` changed.
    private func withRecipient(_ index: Int, _ change: (inout JSONObject) -> Void) throws -> JSONObject {
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients()
        guard case .object(var recipient) = recipients[index] else { throw XCTSkip("no recipient \(index)") }
        change(&recipient)
        recipients[index] = .object(recipient)
        config["recipients"] = .array(recipients)
        return config
    }

    func testAFieldNoReferralSchemaHasIsRefusedNamingTheRecipientAndThePointer() throws {
        let result = try check(try withRecipient(1) { recipient in
            recipient["fields"] = .array((recipient["fields"]?.arrayValue ?? []) + ["/subject/shoeSize", "/supportNeeds/*/servise"])
        })
        XCTAssertEqual(result.status, 1, result.output)
        let lines = result.errorOutput.split(separator: "\n").filter { $0.contains("  - ") }
        XCTAssertEqual(lines.count, 2, result.errorOutput)
        XCTAssertTrue(lines[0].contains("recipients[1].fields[10]: no referral schema (urn:refex:schema:referral:1) has /subject/shoeSize"), result.errorOutput)
        XCTAssertTrue(lines[1].contains("recipients[1].fields[11]: no referral schema (urn:refex:schema:referral:1) has /supportNeeds/*/servise"), result.errorOutput)
        XCTAssertTrue(lines.allSatisfy { $0.contains("recipient victim-support would never receive it") }, result.errorOutput)
        XCTAssertFalse(result.output.contains("OK"), result.output)
    }

    func testACategoryNoSchemaMarksIsRefusedNamingTheRecipientAndTheCategory() throws {
        let result = try check(try withRecipient(0) { $0["categories"] = ["health", "helth"] })
        XCTAssertEqual(result.status, 1, result.output)
        let lines = result.errorOutput.split(separator: "\n").filter { $0.contains("  - ") }
        XCTAssertEqual(lines.count, 1, result.errorOutput)
        XCTAssertTrue(lines[0].contains("recipients[0].categories[1]: no referral schema (urn:refex:schema:referral:1) marks the category helth"), result.errorOutput)
        XCTAssertTrue(lines[0].contains("(they mark: hate-crime-strand, health,"), result.errorOutput)
        XCTAssertTrue(lines[0].contains("recipient dv-support would never receive it"), result.errorOutput)
    }

    func testAServiceGivenToTwoRecipientsIsANoticeThatDoesNotFailTheCheck() throws {
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients()
        recipients.append([
            "id": "fraud-desk", "name": "Fraud desk", "services": ["fraud"], "delivery": ["mode": "pull", "partner": "sink"],
            "fields": ["/referenceId", "/offence"],
        ])
        config["recipients"] = .array(recipients)
        let result = try check(config)
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertTrue(result.output.contains("OK (6 partners, 4 recipients"), result.output)
        let notices = result.errorOutput.split(separator: "\n").filter { $0.contains("notice:") }
        XCTAssertEqual(notices.count, 1, result.errorOutput)
        XCTAssertTrue(notices[0].contains("service fraud is given to 2 recipients, victim-support (recipients[1]) and fraud-desk (recipients[3])"), result.errorOutput)
    }

    func testTheDevelopmentRecipientsPassWithoutANotice() throws {
        let result = try check(try RefexProcess.config())
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertEqual(result.errorOutput, "")
    }

    func testUnknownCommandAndOptionsExitTwo() throws {
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["frobnicate"]).status, 2)
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["serve", "--colour"]).status, 2)
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["help"]).status, 0)
    }
}
