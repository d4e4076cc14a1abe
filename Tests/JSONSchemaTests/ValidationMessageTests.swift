import Foundation
import JSON
import XCTest
@testable import JSONSchema

/// The messages a partner's developer reads: they must say what to send, without counting.
final class ValidationMessageTests: XCTestCase {
    private func errors(_ schema: String, _ instance: String, assertFormats: Bool = true) throws -> [ValidationError] {
        let registry = SchemaRegistry()
        let uri = try registry.register(schema: try JSONValue.parse(schema), retrievalURI: "urn:test:messages")
        let compiled = try registry.compile(uri: uri, options: ValidationOptions(assertFormats: assertFormats, annotations: .none))
        return compiled.validate(try JSONValue.parse(instance)).errors
    }

    private func referralErrors(_ instance: String) throws -> [ValidationError] {
        let registry = SchemaRegistry()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/referral.v1.schema.json"))
        let uri = try registry.register(schema: try JSONValue.parse(Array(data)), retrievalURI: nil)
        let compiled = try registry.compile(uri: uri, options: ValidationOptions(assertFormats: true, annotations: .none))
        return compiled.validate(try JSONValue.parse(instance)).errors
    }

    func testEnumListsTheAllowedValuesWhenTheyFitOnALine() throws {
        // The referral's eight services: what integrators get wrong first.
        let services = ##"{"$defs": {"s": {"enum": ["domestic-abuse", "sexual-violence", "hate-crime", "fraud", "general-victim-support", "translation", "young-victims", "anti-social-behaviour"]}}, "$ref": "#/$defs/s"}"##
        let message = try XCTUnwrap(errors(services, #""victim-support""#).first?.message)
        XCTAssertEqual(message, #"must be one of the 8 allowed values: "domestic-abuse", "sexual-violence", "hate-crime", "fraud", "general-victim-support", "translation", "young-victims", "anti-social-behaviour""#)
        XCTAssertEqual(try errors(#"{"enum": ["a"]}"#, "1").first?.message, #"must be the 1 allowed value: "a""#)
        // Too long for a line: counted, not listed, and never the value sent.
        let many = "[" + (0..<40).map { "\"value-number-\($0)\"" }.joined(separator: ",") + "]"
        let long = try XCTUnwrap(errors(#"{"enum": \#(many)}"#, #""secret-name""#).first?.message)
        XCTAssertEqual(long, "must be one of the 40 allowed values")
    }

    func testAnErrorFromThenSaysWhichConditionMadeTheFieldRequired() throws {
        let offence = try referralErrors(#"{"offence": {"hateCrime": true}}"#).first { $0.keywordLocation.hasSuffix("/then/required") }
        XCTAssertEqual(offence?.message, "missing required property 'hateCrimeStrands' (required because 'hateCrime' is true)")

        let schema = #"""
        {"properties": {"mode": {"enum": ["push", "pull"]}},
         "if": {"properties": {"mode": {"const": "push"}}, "required": ["mode"]},
         "then": {"required": ["endpoint"], "properties": {"endpoint": {"type": "string"}}},
         "else": {"required": ["partner"]}}
        """#
        XCTAssertEqual(try errors(schema, #"{"mode": "push"}"#).map(\.message), ["missing required property 'endpoint' (required because 'mode' is \"push\")"])
        XCTAssertEqual(try errors(schema, #"{"mode": "push", "endpoint": 1}"#).map(\.message), ["must be string, but is integer (applies because 'mode' is \"push\")"])
        XCTAssertEqual(try errors(schema, #"{"mode": "pull"}"#).map(\.message), ["missing required property 'partner' (required because it is not the case that 'mode' is \"push\")"])
        let several = #"{"if": {"properties": {"a": {"enum": [1, 2]}, "b": {"const": null}}, "required": ["a", "c"]}, "then": {"required": ["d"]}}"#
        XCTAssertEqual(try errors(several, #"{"a": 1, "b": null, "c": 0}"#).first?.message,
                       "missing required property 'd' (required because 'a' is one of 1, 2 and 'b' is null and 'c' is present)")
        // A condition of another shape is named by its keyword, not guessed at.
        let complex = #"{"if": {"minProperties": 2}, "then": {"required": ["x"]}}"#
        XCTAssertEqual(try errors(complex, #"{"a": 1, "b": 2}"#).first?.message, "missing required property 'x' (required because the schema in 'if' matches)")
    }

    func testDateTimeErrorShowsAnExample() throws {
        let message = try XCTUnwrap(errors(#"{"format": "date-time"}"#, #""29/11/2026 14:05""#).first?.message)
        XCTAssertEqual(message, "string is not a valid RFC 3339 date-time, e.g. 2026-11-29T14:05:00Z or 2026-11-29T14:05:00+01:00")
        XCTAssertFalse(message.contains("29/11"))
        XCTAssertEqual(try errors(#"{"format": "date"}"#, #""29/11/2026""#).first?.message, "string is not a valid date (YYYY-MM-DD)")
        XCTAssertTrue(try errors(#"{"format": "date-time"}"#, #""x""#, assertFormats: false).isEmpty)
    }
}
