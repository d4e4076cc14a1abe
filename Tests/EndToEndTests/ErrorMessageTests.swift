import Foundation
import JSON
import TestSupport
import XCTest

/// Errors that need no counting (issue 13, items 8 to 11), through the built binary: the API,
/// `refex schema validate` and `refex config check`.
final class ErrorMessageTests: XCTestCase {
    private func checkConfig(_ config: JSONObject) throws -> SubprocessResult {
        let path = "\(ProjectPaths.temporaryDirectory())/refex.json"
        try RefexProcess.write(config, to: path)
        return try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path])
    }

    private func write(_ text: String, _ name: String = "doc.json") throws -> String {
        let path = "\(ProjectPaths.temporaryDirectory())/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    // MARK: Item 8: line and column

    func testConfigCheckGivesLineAndColumnOfASyntaxError() throws {
        let path = try write("{\n  \"listen\": \"127.0.0.1:0\",\n  \"ops\": \"127.0.0.1:0\",\n}\n", "refex.json")
        let result = try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errorOutput.contains("not valid JSON: line 3, column 23 (byte 51): trailing comma"), result.errorOutput)
    }

    func testSchemaValidateGivesLineAndColumn() throws {
        let document = try write("{\n  \"schema\": \"urn:refex:schema:referral:1\"\n  \"referenceId\": \"X\"\n}")
        let result = try Subprocess.run(ProjectPaths.refexBinary, [
            "schema", "validate", "--schema", "\(ProjectPaths.root)/schemas/referral.v1.schema.json", "--schema-dir", "\(ProjectPaths.root)/schemas", document,
        ])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.errorOutput.contains("not valid JSON: line 3, column 3 (byte 46): unexpected character"), result.errorOutput)
    }

    func testTheAPIGivesLineAndColumnAndNamesATrailingComma() throws {
        let refex = try RefexProcess()
        let body = "{\n  \"schema\": \"urn:refex:schema:referral:1\",\n  \"supportNeeds\": [{\"service\": \"fraud\"},],\n}"
        let file = try write(body)
        let (_, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: "police"
        )
        XCTAssertEqual(response?.status, 400)
        let detail = try XCTUnwrap(response?.json?["detail"]?.stringValue)
        XCTAssertTrue(detail.contains("line 3, column 40"), detail)
        XCTAssertTrue(detail.contains("trailing comma"), detail)
        XCTAssertFalse(detail.contains("fraud"), "a detail never echoes what was sent")
    }

    // MARK: Item 10: schema validate

    func testSchemaValidateNamesSchemaDirAndCanTreatFormatAsAnnotation() throws {
        let example = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var referral) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: example)))),
              case .object(var consent)? = referral["consent"] else { return XCTFail("the example has a consent block") }
        consent["obtainedAt"] = "yesterday at noon"
        referral["consent"] = .object(consent)
        let document = try write(JSONValue.object(referral).prettyPrinted())
        let schema = "\(ProjectPaths.root)/schemas/config.v1.schema.json"
        let missing = try Subprocess.run(ProjectPaths.refexBinary, ["schema", "validate", "--schema", schema, document])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.errorOutput.contains("urn:refex:schema:referral:1") && missing.errorOutput.contains("--schema-dir"), missing.errorOutput)

        let referralSchema = "\(ProjectPaths.root)/schemas/referral.v1.schema.json"
        let asserted = try Subprocess.run(ProjectPaths.refexBinary, ["schema", "validate", "--schema", referralSchema, document])
        XCTAssertEqual(asserted.status, 1)
        XCTAssertTrue(asserted.output.contains("/consent/obtainedAt: string is not a valid RFC 3339 date-time, e.g. 2026-11-29T14:05:00Z"), asserted.output)
        XCTAssertFalse(asserted.output.contains("yesterday"))
        let annotated = try Subprocess.run(ProjectPaths.refexBinary, ["schema", "validate", "--format-annotation", "--schema", referralSchema, document])
        XCTAssertEqual(annotated.status, 0, annotated.output + annotated.errorOutput)
    }

    // MARK: Item 9 through the API

    func testTheAPIListsTheServicesAndSaysWhyAFieldIsRequired() throws {
        let refex = try RefexProcess()
        let example = "\(ProjectPaths.root)/schemas/examples/referral-2-hate-crime-witness.json"
        guard case .object(var referral) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: example)))),
              case .object(var offence)? = referral["offence"] else { return XCTFail("the example has an offence") }
        offence["hateCrime"] = true
        offence["hateCrimeStrands"] = nil
        referral["offence"] = .object(offence)
        referral["supportNeeds"] = [["service": "victim-support"]]
        let file = try write(JSONValue.object(referral).serializedString())
        let (_, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: "police"
        )
        XCTAssertEqual(response?.status, 422)
        let messages = response?.json?["errors"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
        XCTAssertTrue(messages.contains { $0.contains("\"general-victim-support\"") && $0.contains("\"anti-social-behaviour\"") }, "\(messages)")
        XCTAssertTrue(messages.contains("missing required property 'hateCrimeStrands' (required because 'hateCrime' is true)"), "\(messages)")
    }

    // MARK: Item 11: config check

    private func withPushEndpoint(_ endpoint: String) throws -> JSONObject {
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients()
        if case .object(var first) = recipients[0], case .object(var delivery)? = first["delivery"] {
            delivery["endpoint"] = .string(endpoint)
            first["delivery"] = .object(delivery)
            recipients[0] = .object(first)
        }
        config["recipients"] = .array(recipients)
        return config
    }

    func testAnHTTPEndpointIsOneLineThatSaysHTTPS() throws {
        let result = try checkConfig(try withPushEndpoint("http://localhost:9443/deliveries"))
        XCTAssertEqual(result.status, 1)
        let lines = result.errorOutput.split(separator: "\n").filter { $0.contains("recipients[0]") }
        XCTAssertEqual(lines.count, 1, result.errorOutput)
        XCTAssertTrue(lines.first?.contains("recipients[0].delivery.endpoint") ?? false, result.errorOutput)
        XCTAssertTrue(lines.first?.contains("https://") ?? false, result.errorOutput)
        XCTAssertFalse(result.errorOutput.contains("partner"), "the pull branch's requirements are not the fix: \(result.errorOutput)")
        XCTAssertFalse(result.errorOutput.contains("oneOf"), result.errorOutput)
    }

    func testEachDeliveryModeGetsItsOwnBranchsErrors() throws {
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients()
        if case .object(var pull) = recipients[2] {
            pull["delivery"] = ["mode": "pull"]
            recipients[2] = .object(pull)
        }
        if case .object(var push) = recipients[1] {
            push["delivery"] = ["mode": "push", "endpoint": "https://localhost/x"]
            recipients[1] = .object(push)
        }
        if case .object(var unknown) = recipients[0] {
            unknown["delivery"] = ["mode": "carrier-pigeon"]
            recipients[0] = .object(unknown)
        }
        config["recipients"] = .array(recipients)
        let result = try checkConfig(config)
        XCTAssertEqual(result.status, 1)
        let text = result.errorOutput
        // Exactly one line each, for the branch its mode names.
        XCTAssertEqual(text.split(separator: "\n").filter { $0.contains("  - ") }.count, 3, text)
        XCTAssertTrue(text.contains("recipients[2].delivery.partner: missing"), text)
        XCTAssertTrue(text.contains("recipients[1].delivery.ca: missing"), text)
        XCTAssertTrue(text.contains("recipients[0].delivery.mode: must be push or pull"), text)
        XCTAssertFalse(text.contains("must be equal to"), text)
        XCTAssertFalse(text.contains("is not allowed"), text)
    }

    func testTheOKLineCountsRecipientsAndDoesNotClaimToListen() throws {
        let result = try checkConfig(try RefexProcess.config())
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertTrue(result.output.contains("6 partners, 3 recipients"), result.output)
        XCTAssertFalse(result.output.contains("listening"), result.output)
        XCTAssertTrue(result.output.contains("serve would listen on 127.0.0.1:0, ops on 127.0.0.1:0"), result.output)
    }
}
