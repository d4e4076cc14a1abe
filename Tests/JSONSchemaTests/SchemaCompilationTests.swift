import JSON
import JSONSchema
import XCTest

final class SchemaCompilationTests: XCTestCase {
    private static let openBracket = "["

    private func compileError(_ schema: JSONValue, file: StaticString = #filePath, line: UInt = #line) -> SchemaError? {
        do {
            _ = try Schema(compiling: schema)
            XCTFail("compiled", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testRejectsMalformedKeywordsWithTheirLocation() {
        let cases: [(JSONValue, String)] = [
            (["properties": ["age": ["minimum": "0"]]], "#/properties/age/minimum"),
            (["minLength": -1], "#/minLength"),
            (["maxItems": 1.5], "#/maxItems"),
            (["type": "strin"], "#/type"),
            (["type": ["string", "string"]], "#/type"),
            (["required": "name"], "#/required"),
            (["required": ["a", "a"]], "#/required"),
            (["multipleOf": 0], "#/multipleOf"),
            (["items": [["type": "string"]]], "#/items"),
            (["allOf": []], "#/allOf"),
            (["not": 1], "#/not"),
            (["pattern": "(unclosed"], "#/pattern"),
            (["patternProperties": [Self.openBracket: true]], "#/patternProperties/" + Self.openBracket),
            (["pattern": "(?<=a+)b"], "#/pattern"),
            (["enum": "x"], "#/enum"),
            (["dependentRequired": ["a": [1]]], "#/dependentRequired"),
            (["then": 5], "#/then"),
        ]
        for (schema, suffix) in cases {
            let error = compileError(schema)
            XCTAssertEqual(error?.code, .invalidKeyword, "\(schema)")
            XCTAssertTrue(error?.location.hasSuffix(suffix) ?? false, "\(error?.location ?? "nil") should end with \(suffix)")
        }
    }

    func testRejectsInvalidIdentifiers() {
        XCTAssertEqual(compileError(["$id": "urn:refex:x#frag"])?.code, .invalidIdentifier)
        XCTAssertEqual(compileError(["$anchor": "1abc"])?.code, .invalidIdentifier)
        XCTAssertEqual(compileError(["$defs": ["a": ["$anchor": "x"], "b": ["$anchor": "x"]]])?.code, .duplicateIdentifier)
        XCTAssertEqual(compileError(42)?.code, .notASchema)
    }

    func testDetectsReferenceCyclesThatNeverConsumeInput() {
        XCTAssertEqual(compileError(["$ref": "#"])?.code, .referenceCycle)
        XCTAssertEqual(compileError([
            "$defs": ["a": ["allOf": [["$ref": "#/$defs/b"]]], "b": ["anyOf": [["type": "string"], ["$ref": "#/$defs/a"]]]],
            "$ref": "#/$defs/a",
        ])?.code, .referenceCycle)
        XCTAssertEqual(compileError(["if": ["$ref": "#"]])?.code, .referenceCycle)
        // Recursion through a child of the instance is fine.
        XCTAssertNoThrow(try Schema(compiling: ["properties": ["next": ["$ref": "#"]], "items": ["$ref": "#"]]))
    }

    func testBoundsSchemaNesting() {
        var schema: JSONValue = ["type": "string"]
        for _ in 0..<300 { schema = ["not": schema] }
        XCTAssertEqual(compileError(schema)?.code, .tooDeep)
        var fine: JSONValue = ["type": "string"]
        for _ in 0..<100 { fine = ["not": fine] }
        XCTAssertNoThrow(try Schema(compiling: fine))
    }

    func testSchemaErrorDescriptionNamesLocationAndProblem() {
        let error = compileError(["$id": "urn:refex:schema:referral:1", "properties": ["age": ["minimum": "zero"]]])
        XCTAssertEqual(error?.description, "urn:refex:schema:referral:1#/properties/age/minimum: minimum must be a number")
    }
}
