import JSON
import XCTest

/// RFC 6901.
final class JSONPointerTests: XCTestCase {
    func testParsesAndEscapesTokens() throws {
        XCTAssertEqual(try JSONPointer(parsing: ""), .root)
        XCTAssertEqual(try JSONPointer(parsing: "/").tokens, [""])
        XCTAssertEqual(try JSONPointer(parsing: "/a~1b/m~0n/0").tokens, ["a/b", "m~n", "0"])
        XCTAssertEqual(try JSONPointer(parsing: "/~01").tokens, ["~1"], "~0 is decoded after ~1, not before")
        XCTAssertEqual(JSONPointer(tokens: ["a/b", "m~n", "0"]).description, "/a~1b/m~0n/0")
        XCTAssertEqual(JSONPointer(tokens: ["~1"]).description, "/~01")
        XCTAssertEqual(JSONPointer.root.description, "")
    }

    func testRejectsMalformedPointers() {
        XCTAssertThrowsError(try JSONPointer(parsing: "a")) { XCTAssertEqual(($0 as? JSONPointerError)?.reason, .missingLeadingSlash) }
        XCTAssertThrowsError(try JSONPointer(parsing: "/a~2")) { XCTAssertEqual(($0 as? JSONPointerError)?.reason, .invalidEscape) }
        XCTAssertThrowsError(try JSONPointer(parsing: "/a~"))
    }

    func testAppendsAndComparesPrefixes() throws {
        let pointer = JSONPointer.root.appending("subject").appending(0)
        XCTAssertEqual(pointer.description, "/subject/0")
        XCTAssertTrue(JSONPointer.root.isPrefix(of: pointer))
        XCTAssertTrue(try JSONPointer(parsing: "/subject").isPrefix(of: pointer))
        XCTAssertTrue(pointer.isPrefix(of: pointer))
        XCTAssertFalse(try JSONPointer(parsing: "/subj").isPrefix(of: pointer))
        XCTAssertFalse(pointer.isPrefix(of: try JSONPointer(parsing: "/subject")))
    }

    func testRecognizesArrayIndices() {
        XCTAssertEqual(JSONPointer.arrayIndex("0"), 0)
        XCTAssertEqual(JSONPointer.arrayIndex("42"), 42)
        XCTAssertNil(JSONPointer.arrayIndex("042"))
        XCTAssertNil(JSONPointer.arrayIndex("-"))
        XCTAssertNil(JSONPointer.arrayIndex("-1"))
        XCTAssertNil(JSONPointer.arrayIndex(""))
        XCTAssertNil(JSONPointer.arrayIndex("1a"))
        XCTAssertNil(JSONPointer.arrayIndex("99999999999999999999"))
    }
}
