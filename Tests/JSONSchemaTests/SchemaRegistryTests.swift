import JSON
import JSONSchema
import XCTest

final class SchemaRegistryTests: XCTestCase {
    private func schemaError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> SchemaError? {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
            return nil
        } catch let error as SchemaError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    func testResolvesReferencesAcrossRegisteredDocumentsByIdAndRetrievalURI() throws {
        let registry = SchemaRegistry()
        let uri = try registry.register(schema: ["$id": "urn:refex:schema:name:1", "type": "string", "maxLength": 5])
        XCTAssertEqual(uri, "urn:refex:schema:name:1")
        try registry.register(schema: ["type": "integer"], retrievalURI: "file:///etc/refex/schemas/age.json")
        let schema = try Schema(compiling: [
            "properties": ["name": ["$ref": "urn:refex:schema:name:1"], "age": ["$ref": "file:///etc/refex/schemas/age.json"]],
        ], registry: registry)
        XCTAssertTrue(schema.validate(["name": "Ann", "age": 40]).isValid)
        XCTAssertFalse(schema.validate(["name": "Annabel", "age": 40]).isValid)
        XCTAssertFalse(schema.validate(["name": "Ann", "age": "40"]).isValid)
        XCTAssertTrue(registry.contains(uri: "urn:refex:schema:name:1"))
        XCTAssertFalse(registry.contains(uri: "urn:refex:schema:other:1"))
    }

    func testCompilesARegisteredSchemaByURIAndFragment() throws {
        let registry = SchemaRegistry()
        try registry.register(schema: ["$id": "https://refex.example/referral", "$defs": ["postcode": ["type": "string", "pattern": "^[A-Z]{1,2}[0-9]"]]])
        let postcode = try registry.compile(uri: "https://refex.example/referral#/$defs/postcode")
        XCTAssertTrue(postcode.validate("SW1A 1AA").isValid)
        XCTAssertFalse(postcode.validate("1AA").isValid)
        XCTAssertEqual(schemaError { _ = try registry.compile(uri: "https://refex.example/missing") }?.code, .unresolvedReference)
    }

    func testRefusesADifferentSchemaUnderATakenURI() throws {
        let registry = SchemaRegistry()
        try registry.register(schema: ["$id": "urn:refex:a", "type": "string"])
        let error = schemaError { try registry.register(schema: ["$id": "urn:refex:a", "type": "number"]) }
        XCTAssertEqual(error?.code, .duplicateIdentifier)
        // An embedded $id counts too, and a failed registration leaves the registry unchanged.
        let embedded = schemaError { try registry.register(schema: ["$id": "urn:refex:b", "$defs": ["x": ["$id": "urn:refex:a"]]]) }
        XCTAssertEqual(embedded?.code, .duplicateIdentifier)
        XCTAssertFalse(registry.contains(uri: "urn:refex:b"))
        XCTAssertEqual(schemaError { try registry.register(schema: ["$id": "https://json-schema.org/draft/2020-12/schema"]) }?.code, .duplicateIdentifier)
    }

    func testRegisteringTheSameDocumentAgainIsHarmless() throws {
        let registry = SchemaRegistry()
        let document: JSONValue = ["$id": "urn:refex:same", "type": "string"]
        try registry.register(schema: document)
        XCTAssertEqual(try registry.register(schema: document), "urn:refex:same")
    }

    func testNeverFetchesUnregisteredReferences() {
        let error = schemaError {
            _ = try Schema(compiling: ["$id": "https://refex.example/root", "properties": ["a": ["$ref": "other.json#/x"]]])
        }
        XCTAssertEqual(error?.code, .unresolvedReference)
        XCTAssertEqual(error?.location, "https://refex.example/root#/properties/a/$ref")
        XCTAssertTrue(error?.message.contains("https://refex.example/other.json#/x") ?? false, error?.message ?? "")
    }

    func testRefusesUnknownMetaSchemasAndRequiredUnknownVocabularies() throws {
        XCTAssertEqual(schemaError { _ = try Schema(compiling: ["$schema": "http://json-schema.org/draft-07/schema#", "type": "string"]) }?.code,
                       .unsupportedMetaSchema)
        let registry = SchemaRegistry()
        try registry.register(schema: [
            "$id": "urn:refex:meta:strange", "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$vocabulary": ["https://json-schema.org/draft/2020-12/vocab/core": true, "urn:refex:vocab:unknown": true],
        ])
        XCTAssertEqual(schemaError { _ = try Schema(compiling: ["$schema": "urn:refex:meta:strange"], registry: registry) }?.code, .unsupportedMetaSchema)
    }

    func testTheStandardMetaSchemaValidatesSchemas() throws {
        let registry = SchemaRegistry()
        let metaSchema = try registry.compile(uri: "https://json-schema.org/draft/2020-12/schema")
        XCTAssertTrue(metaSchema.validate(["type": "object", "properties": ["a": ["minLength": 1]]]).isValid)
        let result = metaSchema.validate(["type": "object", "properties": ["a": ["minLength": -1]]])
        XCTAssertFalse(result.isValid)
        XCTAssertTrue(result.errors.contains { $0.instanceLocation.description == "/properties/a/minLength" }, "\(result.errors)")
    }
}
