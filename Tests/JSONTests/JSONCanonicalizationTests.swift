import JSON
import XCTest

/// RFC 8785 (JCS).
final class JSONCanonicalizationTests: XCTestCase {
    private func canonical(_ text: String) throws -> String {
        String(decoding: try JSONValue.parse(text).canonicalized(), as: UTF8.self)
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialization.
    func testSerializesNumbersLikeECMAScript() throws {
        let vectors: [(UInt64, String)] = [
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
            (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xC340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
            (0x44B5_2D02_C7E1_4AF6, "1e+23"),
            (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
            (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
            (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
            (0x444B_1AE4_D6E2_EF50, "1e+21"),
            (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
            (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
            (0x41B3_DE43_5555_5553, "333333333.3333332"),
            (0x41B3_DE43_5555_5554, "333333333.33333325"),
            (0x41B3_DE43_5555_5555, "333333333.3333333"),
            (0x41B3_DE43_5555_5556, "333333333.3333334"),
            (0x41B3_DE43_5555_5557, "333333333.33333343"),
            (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
            (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
        ]
        for (bits, expected) in vectors {
            let value = JSONValue.number(JSONNumber(Double(bitPattern: bits)))
            XCTAssertEqual(String(decoding: value.canonicalized(), as: UTF8.self), expected, String(bits, radix: 16))
            // Parsing the canonical text and canonicalizing again is stable.
            XCTAssertEqual(try canonical(expected), expected)
        }
    }

    func testRoundsExactNumbersToTheNearestDouble() throws {
        XCTAssertEqual(try canonical("1.0"), "1")
        XCTAssertEqual(try canonical("1e2"), "100")
        XCTAssertEqual(try canonical("0.1000000000000000055511151231257827"), "0.1")
        XCTAssertEqual(try canonical("9007199254740993"), "9007199254740992")
        XCTAssertEqual(try canonical("123456789012345678901234567890"), "1.2345678901234568e+29")
        XCTAssertEqual(try canonical("-0.0"), "0")
        XCTAssertEqual(try canonical("1e400"), "1e+400", "beyond double range: kept exact")
    }

    func testSortsKeysByUTF16CodeUnits() throws {
        // RFC 8785 §3.2.3 example: sorted by UTF-16, so U+1F600 (D83D…) sorts before U+FB33.
        let input = #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"דּ\":\"Hebrew Letter Dalet With Dagesh\"}"
        XCTAssertEqual(try canonical(input), expected)
    }

    /// Keys compared by their UTF-8 bytes (no key at or above U+E000) and by UTF-16 code units
    /// (some key there) sort alike: every object's member order is checked against UTF-16 order.
    func testSortsKeysByUTF16CodeUnitsWhicheverWayTheyAreCompared() throws {
        let alphabets: [[Character]] = [
            ["a", "b", "z", "A", "0", "~", "\u{7F}"],
            ["a", "é", "ö", "€", "\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}"],
            ["a", "€", "\u{E000}", "\u{FB33}", "\u{FFFD}", "😀", "\u{10000}", "\u{10FFFF}"],
        ]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let alphabet = alphabets[round % alphabets.count]
            var keys = Set<String>()
            for _ in 0..<Int.random(in: 1...12, using: &generator) {
                keys.insert(String((0..<Int.random(in: 0...4, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" }))
            }
            let object = JSONValue.object(JSONObject(keys.shuffled(using: &generator).map { ($0, JSONValue.null) }))
            let text = String(decoding: object.canonicalized(), as: UTF8.self)
            let parsed = try JSONValue.parse(Array(text.utf8))
            guard case .object(let written) = parsed else { return XCTFail(text) }
            let expected = keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            XCTAssertEqual(written.keys, expected, text)
        }
    }

    func testMatchesTheRFCExample() throws {
        let input = """
        {
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
          "literals": [null, true, false]
        }
        """
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        XCTAssertEqual(try canonical(input), expected)
    }

    func testSortsNestedObjectsAndKeepsArrayOrder() throws {
        XCTAssertEqual(try canonical(#"{"b":[{"z":1,"y":2}],"a":{"d":null,"c":"x"}}"#), #"{"a":{"c":"x","d":null},"b":[{"y":2,"z":1}]}"#)
    }
}
