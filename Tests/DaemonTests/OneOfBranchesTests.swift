import JSON
import JSONSchema
import XCTest
@testable import Daemon

final class OneOfBranchesTests: XCTestCase {
    private func errors(_ schema: String, _ instance: String) throws -> [String] {
        let registry = SchemaRegistry()
        let uri = try registry.register(schema: try JSONValue.parse(schema), retrievalURI: "urn:test:oneof")
        let result = try registry.compile(uri: uri).validate(try JSONValue.parse(instance))
        return OneOfBranches.relevant(result.errors).map(\.description)
    }

    private let delivery = #"""
        {"properties": {"d": {"oneOf": [
          {"type": "object", "required": ["mode", "endpoint"], "additionalProperties": false,
           "properties": {"mode": {"const": "push"}, "endpoint": {"type": "string", "pattern": "^https://"}}},
          {"type": "object", "required": ["mode", "partner"], "additionalProperties": false,
           "properties": {"mode": {"const": "pull"}, "partner": {"type": "string"}}}]}},
         "items": false}
        """#

    func testKeepsTheBranchItsConstNames() throws {
        XCTAssertEqual(try errors(delivery, #"{"d": {"mode": "push", "endpoint": "http://x"}}"#),
                       ["/d/endpoint: string does not match the pattern ^https:// (/properties/d/oneOf/0/properties/endpoint/pattern)"])
        XCTAssertEqual(try errors(delivery, #"{"d": {"mode": "pull"}}"#),
                       ["/d: missing required property 'partner' (/properties/d/oneOf/1/required)"])
    }

    func testNoBranchNamedLeavesTheOneOfError() throws {
        let left = try errors(delivery, #"{"d": {"mode": "fax"}}"#)
        XCTAssertEqual(left.count, 1, "\(left)")
        XCTAssertTrue(left.first?.contains("must match exactly one of the 2 schemas in oneOf, but matches none") ?? false)
    }

    func testWithoutADiscriminatorTheClosestBranchIsKept() throws {
        let certificates = #"""
            {"items": {"oneOf": [
              {"type": "object", "required": ["sha256"], "additionalProperties": false, "properties": {"sha256": {"pattern": "^[0-9A-F]{4}$"}}},
              {"type": "object", "required": ["subject", "issuer"], "additionalProperties": false}]}}
            """#
        XCTAssertEqual(try errors(certificates, #"[{"sha256": "12"}, {"sha256": "ABCD"}]"#),
                       ["/0/sha256: string does not match the pattern ^[0-9A-F]{4}$ (/items/oneOf/0/properties/sha256/pattern)"])
    }

    func testErrorsOfAnotherItemAreNotMixedIn() throws {
        let both = try errors(#"{"items": \#(delivery.replacingOccurrences(of: "\"items\": false", with: "\"type\": \"object\""))}"#,
                              #"[{"d": {"mode": "pull"}}, {"d": {"mode": "push", "endpoint": "https://x", "partner": "p"}}]"#)
        XCTAssertEqual(both.count, 2, "\(both)")
        XCTAssertTrue(both[0].hasPrefix("/0/d: missing required property 'partner'"), "\(both)")
        XCTAssertTrue(both[1].hasPrefix("/1/d/partner: property is not allowed"), "\(both)")
    }
}
