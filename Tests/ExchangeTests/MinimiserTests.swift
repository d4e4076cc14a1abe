import JSON
import XCTest
@testable import Exchange

final class MinimiserTests: XCTestCase {
    let document: JSONValue = [
        "referenceId": "R1",
        "subject": [
            "name": ["given": "A", "family": "B"],
            "health": "private",
            "contact": [
                "phone": ["number": "1", "safeToUse": true],
                "email": ["address": "e", "safeToUse": false],
            ],
        ],
        "offence": ["category": "fraud", "description": "secret"],
        "supportNeeds": [["service": "fraud", "notes": "n"], ["service": "translation"]],
    ]

    var markings: DocumentMarkings {
        DocumentMarkings(
            categories: [try! JSONPointer(parsing: "/subject/health"): "health"],
            contacts: [try! JSONPointer(parsing: "/subject/contact/phone"), try! JSONPointer(parsing: "/subject/contact/email")]
        )
    }

    func testOnlyAllowedPointersAreCopied() {
        let result = Minimiser.minimise(document, fields: ["/referenceId", "/subject/name/family"], categories: [], markings: markings)
        XCTAssertEqual(result.data, ["referenceId": "R1", "subject": ["name": ["family": "B"]]])
        XCTAssertEqual(result.pointers, ["/referenceId", "/subject/name/family"])
        XCTAssertEqual(result.categories, [])
    }

    func testSpecialCategoryNeedsTheCategoryEvenInsideAnAllowedSubtree() {
        let without = Minimiser.minimise(document, fields: ["/subject"], categories: [], markings: markings)
        XCTAssertNil(without.data["subject"]?["health"])
        XCTAssertFalse(without.pointers.contains("/subject/health"))
        let with = Minimiser.minimise(document, fields: ["/subject"], categories: ["health"], markings: markings)
        XCTAssertEqual(with.data["subject"]?["health"], "private")
        XCTAssertEqual(with.categories, ["health"])
    }

    func testUnsafeContactsAreDroppedForEveryone() {
        let result = Minimiser.minimise(document, fields: ["/subject/contact"], categories: ["health"], markings: markings)
        XCTAssertEqual(result.data["subject"]?["contact"]?["phone"]?["number"], "1")
        XCTAssertNil(result.data["subject"]?["contact"]?["email"])
    }

    func testWildcardsSelectEveryElement() {
        let result = Minimiser.minimise(document, fields: ["/supportNeeds/*/service"], categories: [], markings: markings)
        XCTAssertEqual(result.data, ["supportNeeds": [["service": "fraud"], ["service": "translation"]]])
        XCTAssertEqual(result.pointers, ["/supportNeeds/0/service", "/supportNeeds/1/service"])
    }

    func testNothingAllowedIsAnEmptyObject() {
        let result = Minimiser.minimise(document, fields: ["/nothing/here"], categories: [], markings: markings)
        XCTAssertEqual(result.data, .object(JSONObject()))
        XCTAssertEqual(result.pointers, [])
    }
}
