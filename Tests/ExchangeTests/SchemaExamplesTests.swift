import Foundation
import JSON
import JSONSchema
import TestSupport
import XCTest
@testable import Exchange

/// Every example under schemas/examples is valid, and every invalid one fails with the errors listed beside it.
final class SchemaExamplesTests: XCTestCase {
    let folder = "\(ProjectPaths.root)/schemas"

    private func load(_ path: String) throws -> JSONValue {
        try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    private func schemaID(for file: String) -> String {
        let family = file.split(separator: "-").first.map(String.init) ?? ""
        return "urn:refex:schema:\(family):1"
    }

    func testValidExamplesAreValid() throws {
        let catalog = try SchemaCatalog(folder: folder)
        let examples = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/examples").filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(examples.count, 3)
        for file in examples {
            let result = try XCTUnwrap(catalog.validate(try load("\(folder)/examples/\(file)"), against: schemaID(for: file)), file)
            XCTAssertTrue(result.isValid, "\(file): \(result.errors)")
        }
    }

    func testInvalidExamplesFailWithTheirListedErrors() throws {
        let catalog = try SchemaCatalog(folder: folder)
        let invalid = "\(folder)/examples/invalid"
        let documents = try FileManager.default.contentsOfDirectory(atPath: invalid).filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
        XCTAssertGreaterThanOrEqual(documents.count, 3)
        for file in documents {
            let expectedFile = "\(invalid)/\(file.dropLast(5)).expected.json"
            let expected = try XCTUnwrap(try load(expectedFile).arrayValue, "\(file) needs \(expectedFile)")
            let result = try XCTUnwrap(catalog.validate(try load("\(invalid)/\(file)"), against: schemaID(for: file)))
            XCTAssertFalse(result.isValid, file)
            for item in expected {
                let location = item["instanceLocation"]?.stringValue ?? ""
                let keyword = item["keyword"]?.stringValue ?? ""
                XCTAssertTrue(
                    result.errors.contains { $0.instanceLocation.description == location && $0.keywordLocation.hasSuffix("/\(keyword)") },
                    "\(file): no \(keyword) error at '\(location)'; got \(result.errors.map { "\($0.instanceLocation) \($0.keywordLocation)" })"
                )
            }
        }
    }

    func testSpecialCategoriesAreAnnotated() throws {
        let catalog = try SchemaCatalog(folder: folder)
        let result = try XCTUnwrap(catalog.validate(try load("\(folder)/examples/referral-1-domestic-abuse.json"), against: "urn:refex:schema:referral:1"))
        let markings = DocumentMarkings(result)
        XCTAssertEqual(markings.categories[try JSONPointer(parsing: "/subject/health")], "health")
        XCTAssertTrue(markings.contacts.contains(try JSONPointer(parsing: "/subject/contact/email")))
    }

    func testHealthVulnerabilitiesAloneAreSpecialCategory() throws {
        let catalog = try SchemaCatalog(folder: folder)
        guard case .object(var document) = try load("\(folder)/examples/referral-1-domestic-abuse.json"),
              case .object(var subject)? = document["subject"] else { return XCTFail("the example changed shape") }
        subject["vulnerabilities"] = ["repeat-victim", "mental-health", "child-present", "disability"]
        document["subject"] = .object(subject)
        let result = try XCTUnwrap(catalog.validate(.object(document), against: "urn:refex:schema:referral:1"))
        XCTAssertTrue(result.isValid)
        let markings = DocumentMarkings(result)
        for (index, expected) in [nil, "health", nil, "health"].enumerated() {
            XCTAssertEqual(markings.categories[try JSONPointer(parsing: "/subject/vulnerabilities/\(index)")], expected, "item \(index)")
        }
        let minimised = Minimiser.minimise(.object(document), fields: ["/subject/vulnerabilities"], categories: [], markings: markings)
        XCTAssertEqual(minimised.data["subject"]?["vulnerabilities"], ["repeat-victim", "child-present"])
        XCTAssertEqual(minimised.categories, [])
    }
}
