import Exchange
import Foundation
import JSON
import TestSupport
import XCTest
@testable import Daemon

/// Which pointers the referral schemas let a referral hold and which categories they mark: what
/// `config check` holds a recipient's `fields` and `categories` against.
final class ReferralSchemaShapeTests: XCTestCase {
    private static let repository = Result { try SchemaCatalog(folder: "\(ProjectPaths.root)/schemas") }

    private func pointer(_ text: String) throws -> JSONPointer { try JSONPointer(parsing: text) }

    func testTheRepositorysReferralSchemaProducesItsFieldsAndNoOthers() throws {
        let shape = ReferralSchemaShape(catalog: try Self.repository.get())
        XCTAssertEqual(shape.ids, ["urn:refex:schema:referral:1"])
        for field in ["/referenceId", "/subject", "/subject/name/family", "/subject/contact/phone/number", "/subject/contact/address/lines/4",
                      "/supportNeeds/*/service", "/supportNeeds/0/service", "/supportNeeds/*", "/subject/*/family", "/subject/vulnerabilities/3",
                      "/offence/hateCrimeStrands/0", "/subject/health", "/consent"] {
            XCTAssertTrue(shape.produces(try pointer(field)), field)
        }
        for field in ["/nonexistent", "/subject/shoeSize", "/subject/name/family/x", "/referenceId/x", "/supportNeeds/first",
                      "/subject/vulnerabilities/0/x", "/subject/health/text", "/*/shoeSize", "/Subject"] {
            XCTAssertFalse(shape.produces(try pointer(field)), field)
        }
    }

    func testTheRepositorysReferralSchemaMarksItsCategories() throws {
        let shape = ReferralSchemaShape(catalog: try Self.repository.get())
        XCTAssertEqual(shape.categories, [
            "health", "racial-or-ethnic-origin", "religious-or-philosophical-beliefs", "sex-life-or-sexual-orientation", "hate-crime-strand",
        ])
    }

    /// A folder holding `schemas` (file name → document).
    private func catalog(_ schemas: [String: String]) throws -> SchemaCatalog {
        let folder = ProjectPaths.temporaryDirectory("refex-shape")
        for (name, text) in schemas { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(name)")) }
        return try SchemaCatalog(folder: folder)
    }

    func testReferencesAcrossSchemasCompositionAndOpenObjectsAreFollowed() throws {
        let shape = ReferralSchemaShape(catalog: try catalog([
            "person.json": #"""
                {"$id": "urn:test:person", "type": "object", "additionalProperties": false,
                 "properties": {"name": {"type": "string"}, "faith": {"type": "string", "x-refex-category": "religious-or-philosophical-beliefs"}}}
                """#,
            "referral-2.json": #"""
                {"$id": "urn:refex:schema:referral:2", "type": "object", "additionalProperties": false,
                 "properties": {
                   "person": {"$ref": "urn:test:person"},
                   "either": {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false},
                                        {"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": false}]},
                   "both": {"allOf": [{"type": "object", "properties": {"a": true, "b": true}}, {"properties": {"a": true}, "additionalProperties": false}]},
                   "open": {"type": "object"},
                   "list": {"type": "array", "prefixItems": [{"type": "object", "properties": {"x": true}, "additionalProperties": false}], "items": false}
                 }}
                """#,
            "consent-1.json": #"{"$id": "urn:refex:schema:consent:1", "type": "object", "properties": {"elsewhere": true}}"#,
        ]))
        XCTAssertEqual(shape.ids, ["urn:refex:schema:referral:2"])
        for field in ["/person/name", "/person/faith", "/either/a", "/either/b", "/both/a", "/open/anything/at/all", "/list/0/x", "/list/*/x"] {
            XCTAssertTrue(shape.produces(try pointer(field)), field)
        }
        for field in ["/person/age", "/either/c", "/both/b", "/list/0/y", "/list/name", "/elsewhere", "/person/name/first"] {
            XCTAssertFalse(shape.produces(try pointer(field)), field)
        }
        XCTAssertEqual(shape.categories, ["religious-or-philosophical-beliefs"], "a category of a schema a referral schema refers to counts")
    }

    func testARecursiveSchemaIsWalkedAsDeepAsThePointer() throws {
        let shape = ReferralSchemaShape(catalog: try catalog([
            "referral.json": #"""
                {"$id": "urn:refex:schema:referral:9", "$ref": "#/$defs/node",
                 "$defs": {"node": {"type": "object", "additionalProperties": false,
                                    "properties": {"next": {"$ref": "#/$defs/node"}}}}}
                """#,
        ]))
        XCTAssertTrue(shape.produces(try pointer("/next/next/next")))
        XCTAssertFalse(shape.produces(try pointer("/next/other")))
        XCTAssertTrue(shape.produces(try pointer("/" + Array(repeating: "next", count: 200).joined(separator: "/"))))
    }

    // MARK: The recipients' check

    private func check(_ recipients: [JSONValue]) throws -> (problems: [String], notices: [String]) {
        let document: JSONValue = ["recipients": .array(recipients)]
        let root = try XCTUnwrap(ConfigurationSection(document, path: "", folder: ""))
        var problems = ConfigurationProblems()
        let notices = RecipientDisclosureCheck.check(root, shape: ReferralSchemaShape(catalog: try Self.repository.get()), &problems)
        return (problems.lines, notices)
    }

    func testFieldsAndCategoriesNoSchemaHasAreProblemsNamingTheRecipient() throws {
        let (problems, notices) = try check([
            ["id": "dv", "services": ["domestic-abuse"], "fields": ["/subject/name", "/subject/shoeSize", "/supportNeeds/*/servise"], "categories": ["health", "helth"]],
            ["id": "support", "services": ["fraud"], "fields": ["/offence"], "categories": []],
        ])
        XCTAssertEqual(problems, [
            "recipients[0].fields[1]: no referral schema (urn:refex:schema:referral:1) has /subject/shoeSize: recipient dv would never receive it; check it against the schema",
            "recipients[0].fields[2]: no referral schema (urn:refex:schema:referral:1) has /supportNeeds/*/servise: recipient dv would never receive it; check it against the schema",
            "recipients[0].categories[1]: no referral schema (urn:refex:schema:referral:1) marks the category helth (they mark: hate-crime-strand, health, racial-or-ethnic-origin, religious-or-philosophical-beliefs, sex-life-or-sexual-orientation): recipient dv would never receive it",
        ])
        XCTAssertEqual(notices, [])
    }

    func testALongPointerIsQuotedShortened() throws {
        let long = "/" + Array(repeating: "a", count: 5000).joined(separator: "/")
        let (problems, _) = try check([["id": "dv", "services": ["fraud"], "fields": [.string(long)]]])
        XCTAssertEqual(problems.count, 1)
        XCTAssertLessThan(problems.first?.count ?? .max, 300, "\(problems)")
        XCTAssertTrue(problems.first?.contains("/a/a/a") == true && problems.first?.contains("…:") == true, "\(problems)")
    }

    func testAServiceGivenToSeveralRecipientsIsANotice() throws {
        let (problems, notices) = try check([
            ["id": "a", "services": ["fraud", "translation"], "fields": ["/offence"]],
            ["id": "b", "services": ["fraud"], "fields": ["/offence"]],
            ["id": "c", "services": ["translation", "fraud"], "fields": ["/offence"]],
        ])
        XCTAssertEqual(problems, [])
        XCTAssertEqual(notices, [
            "service fraud is given to 3 recipients, a (recipients[0]), b (recipients[1]) and c (recipients[2]): a referral asking for it is disclosed to each",
            "service translation is given to 2 recipients, a (recipients[0]) and c (recipients[2]): a referral asking for it is disclosed to each",
        ])
    }
}
