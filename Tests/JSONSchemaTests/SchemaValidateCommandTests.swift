import JSON
import JSONSchema
import XCTest

final class SchemaValidateCommandTests: XCTestCase {
    /// An in-memory file system and terminal.
    private final class MemoryIO: SchemaCommandIO {
        struct Missing: Error, CustomStringConvertible {
            var description: String { "no such file" }
        }

        var files: [String: String] = [:]
        var standardInput = ""
        var output: [String] = []
        var errors: [String] = []

        func readFile(_ path: String) throws -> [UInt8] {
            guard let text = files[path] else { throw Missing() }
            return Array(text.utf8)
        }

        func fileNames(inDirectory path: String) throws -> [String] {
            let prefix = path.hasSuffix("/") ? path : path + "/"
            let names = files.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            guard !names.isEmpty else { throw Missing() }
            return names
        }

        func readStandardInput() throws -> [UInt8] { Array(standardInput.utf8) }
        func fileURI(_ path: String) -> String { "file:///work/" + path }
        func printLine(_ line: String) { output.append(line) }
        func printError(_ line: String) { errors.append(line) }
    }

    private func makeIO() -> MemoryIO {
        let io = MemoryIO()
        io.files["schemas/person.json"] = #"""
            {"$id": "urn:refex:schema:person:1", "type": "object", "required": ["name"],
             "properties": {"name": {"type": "string", "minLength": 1}, "born": {"type": "string", "format": "date"}}}
            """#
        io.files["referral.json"] = #"""
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
             "properties": {"subject": {"$ref": "urn:refex:schema:person:1"}}, "required": ["subject"]}
            """#
        io.files["good.json"] = #"{"subject": {"name": "Ann", "born": "1990-02-28"}}"#
        io.files["bad.json"] = #"{"subject": {"born": "1990-02-30"}}"#
        io.files["broken.json"] = #"{"subject": "#
        return io
    }

    func testExitsZeroWhenEveryDocumentIsValid() {
        let io = makeIO()
        let status = SchemaValidateCommand.run(["validate", "--schema", "referral.json", "--schema-dir", "schemas", "good.json"], io: io)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(io.output, ["good.json: valid"])
        XCTAssertEqual(io.errors, [])
    }

    func testExitsOneAndPrintsEachErrorOnItsOwnLine() {
        let io = makeIO()
        let status = SchemaValidateCommand.run(["validate", "--schema", "referral.json", "--schema-dir", "schemas/", "good.json", "bad.json"], io: io)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(io.output.sorted(), [
            "bad.json: /subject/born: string is not a valid date (YYYY-MM-DD) (/properties/subject/$ref/properties/born/format)",
            "bad.json: /subject: missing required property 'name' (/properties/subject/$ref/required)",
            "good.json: valid",
        ])
        XCTAssertFalse(io.output.joined().contains("1990-02-30"), "document contents are never echoed")
    }

    func testExitsTwoForUnparsableOrUnreadableDocumentsAndStillChecksTheRest() {
        let io = makeIO()
        let status = SchemaValidateCommand.run(["validate", "--schema", "referral.json", "--schema-dir", "schemas", "broken.json", "missing.json", "bad.json"], io: io)
        XCTAssertEqual(status, 2)
        XCTAssertEqual(io.errors, ["broken.json: not valid JSON: line 1, column 13 (byte 12): unexpected end of document", "missing.json: cannot read: no such file"])
        XCTAssertEqual(io.output.count, 2)
    }

    func testReadsStandardInputForADash() {
        let io = makeIO()
        io.standardInput = #"{"subject": {"name": "Ann"}}"#
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema-dir", "schemas", "--schema", "referral.json", "-"], io: io), 0)
        XCTAssertEqual(io.output, ["<stdin>: valid"])
    }

    func testExitsTwoWhenTheSchemaCannotBeLoaded() {
        let io = makeIO()
        // Without --schema-dir the $ref cannot resolve.
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema", "referral.json", "good.json"], io: io), 2)
        XCTAssertTrue(io.errors.first?.hasPrefix("referral.json: invalid schema: ") ?? false, "\(io.errors)")
        XCTAssertTrue(io.errors.first?.contains("with --schema-dir DIR") ?? false, "\(io.errors)")
        // With a folder that does not hold it, the hint says so.
        let elsewhere = makeIO()
        elsewhere.files["other/unrelated.json"] = #"{"$id": "urn:refex:schema:other:1"}"#
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema", "referral.json", "--schema-dir", "other", "good.json"], io: elsewhere), 2)
        XCTAssertTrue(elsewhere.errors.first?.contains("no schema in other has that $id; add the folder that holds it with another --schema-dir") ?? false, "\(elsewhere.errors)")
        let missing = makeIO()
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema", "nope.json", "good.json"], io: missing), 2)
        let broken = makeIO()
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema", "broken.json", "good.json"], io: broken), 2)
        XCTAssertEqual(broken.errors, ["broken.json: schema is not valid JSON: line 1, column 13 (byte 12): unexpected end of document"])
    }

    func testPrintsUsageOnBadArguments() {
        for arguments in [[], ["check"], ["validate"], ["validate", "--schema"], ["validate", "--schema", "s.json"],
                          ["validate", "--bogus", "x", "--schema", "s.json", "d.json"], ["validate", "--schema", "a", "--schema", "b", "d"],
                          ["validate", "--schema", "s.json", "-", "-"]] {
            let io = makeIO()
            XCTAssertEqual(SchemaValidateCommand.run(arguments, io: io), 2, "\(arguments)")
            XCTAssertEqual(io.errors, [SchemaValidateCommand.usage])
        }
        let help = makeIO()
        XCTAssertEqual(SchemaValidateCommand.run(["--help"], io: help), 0)
        XCTAssertEqual(help.output, [SchemaValidateCommand.usage])
    }

    func testFormatIsAssertedByDefaultAndAnnotatesOnRequest() {
        let asserted = makeIO()
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema", "referral.json", "--schema-dir", "schemas", "bad.json"], io: asserted), 1)
        XCTAssertTrue(asserted.output.contains { $0.contains("/subject/born: string is not a valid date") })
        let annotated = makeIO()
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--format-annotation", "--schema", "referral.json", "--schema-dir", "schemas", "bad.json"], io: annotated), 1)
        XCTAssertEqual(annotated.output, ["bad.json: /subject: missing required property 'name' (/properties/subject/$ref/required)"])
        let valid = makeIO()
        valid.files["late.json"] = #"{"subject": {"name": "Ann", "born": "1990-02-30"}}"#
        XCTAssertEqual(SchemaValidateCommand.run(["validate", "--schema", "referral.json", "--schema-dir", "schemas", "--format-annotation", "late.json"], io: valid), 0)
        XCTAssertTrue(SchemaValidateCommand.usage.contains("--format-annotation"))
    }
}
