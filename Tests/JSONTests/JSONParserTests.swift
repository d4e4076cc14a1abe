import JSON
import XCTest

final class JSONParserTests: XCTestCase {
    private func parseError(_ text: String, limits: JSONLimits = .init(), file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let value = try JSONValue.parse(text, limits: limits)
            XCTFail("parsed \(value.serializedString())", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func parseError(bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(bytes)
            XCTFail("parsed invalid bytes", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testParsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(#" { "a" : [1, -2.5e3, true, false, null, "x\n\u00e9\ud83d\ude00"], "b": {} , "c": [] } "#)
        XCTAssertEqual(value, ["a": [1, -2500, true, false, nil, "x\né😀"], "b": [:], "c": []])
        XCTAssertEqual(value.objectValue?.keys, ["a", "b", "c"])
    }

    func testParsesTopLevelScalars() throws {
        XCTAssertEqual(try JSONValue.parse("42"), 42)
        XCTAssertEqual(try JSONValue.parse(" \"s\" "), "s")
        XCTAssertEqual(try JSONValue.parse("null"), nil)
    }

    func testRejectsDuplicateKeysAtTheSecondKeyWithoutNamingIt() {
        let error = parseError(#"{"name":1,"name":2}"#)
        XCTAssertEqual(error, JSONParseError(offset: 10, reason: .duplicateKey))
        XCTAssertEqual(error?.description, "line 1, column 11 (byte 10): duplicate object key")
        XCTAssertFalse(error?.description.contains("name") ?? true)
    }

    func testErrorsGiveLineAndColumn() {
        let document = "{\n  \"a\": 1,\n  \"b\": [1, 2,\n    3 4]\n}"
        let error = parseError(document)
        XCTAssertEqual(error?.reason, .unexpectedByte)
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(error?.column, 7)
        XCTAssertEqual(error?.description, "line 4, column 7 (byte 32): unexpected character")
        // Columns count characters, not bytes; a CRLF ends a line too.
        let accented = parseError("{\r\n\"é€😀\": tru}")
        XCTAssertEqual(accented?.line, 2)
        XCTAssertEqual(accented?.column, 11)
        XCTAssertEqual(parseError("")?.description, "line 1, column 1 (byte 0): empty document")
        let end = parseError("[1,\n2")
        XCTAssertEqual(end?.reason, .unexpectedEnd)
        XCTAssertEqual(end?.line, 2)
        XCTAssertEqual(end?.column, 2)
    }

    func testTrailingCommaIsNamedAtTheComma() {
        for (text, line, column) in [("[1,]", 1, 3), ("[1 , ]", 1, 4), ("{\"a\":1,}", 1, 7), ("{\n \"a\": [1, 2],\n}", 2, 13), ("[[],\n\t]", 1, 4), ("{\"a\":{\"b\":1,}}", 1, 12)] {
            let error = parseError(text)
            XCTAssertEqual(error?.reason, .trailingComma, text)
            XCTAssertEqual(error?.line, line, text)
            XCTAssertEqual(error?.column, column, text)
            XCTAssertTrue(error?.description.contains("trailing comma") ?? false)
        }
        // Not trailing commas: the grammar's other faults keep their names.
        XCTAssertEqual(parseError("[,1]")?.reason, .unexpectedByte)
        XCTAssertEqual(parseError("[1,,2]")?.reason, .unexpectedByte)
        XCTAssertEqual(parseError("{\"a\":1,,}")?.reason, .unexpectedByte)
        XCTAssertEqual(parseError("[1,")?.reason, .unexpectedEnd)
    }

    func testRejectsDuplicateKeysInLargeObjects() {
        let members = (0..<50).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        XCTAssertEqual(parseError("{\(members),\"k7\":0}")?.reason, .duplicateKey)
        XCTAssertEqual(parseError(#"{"a\u0062":1,"ab":2}"#)?.reason, .duplicateKey, "keys compare after unescaping")
    }

    func testReportsTheOffsetOfEachKindOfError() {
        XCTAssertEqual(parseError("[01]"), JSONParseError(offset: 1, reason: .leadingZero))
        XCTAssertEqual(parseError("[-01]"), JSONParseError(offset: 2, reason: .leadingZero))
        XCTAssertEqual(parseError("[1] x"), JSONParseError(offset: 4, reason: .trailingData))
        XCTAssertEqual(parseError("[\"a\u{01}\"]"), JSONParseError(offset: 3, reason: .controlCharacterInString))
        XCTAssertEqual(parseError(#"["\x"]"#), JSONParseError(offset: 2, reason: .invalidEscape))
        XCTAssertEqual(parseError(#"["\u12G4"]"#), JSONParseError(offset: 6, reason: .invalidEscape))
        XCTAssertEqual(parseError(#"["\ud800"]"#), JSONParseError(offset: 2, reason: .loneSurrogate))
        XCTAssertEqual(parseError(#"["\udc00\ud800"]"#), JSONParseError(offset: 2, reason: .loneSurrogate))
        XCTAssertEqual(parseError(#"["\ud800\u0041"]"#), JSONParseError(offset: 2, reason: .loneSurrogate))
        XCTAssertEqual(parseError("[1,"), JSONParseError(offset: 3, reason: .unexpectedEnd))
        XCTAssertEqual(parseError("[1,]"), JSONParseError(offset: 2, reason: .trailingComma))
        XCTAssertEqual(parseError("{\"a\" 1}"), JSONParseError(offset: 5, reason: .unexpectedByte))
        XCTAssertEqual(parseError("[1.]"), JSONParseError(offset: 3, reason: .invalidNumber))
        XCTAssertEqual(parseError("[1e+]"), JSONParseError(offset: 4, reason: .invalidNumber))
        XCTAssertEqual(parseError("[-]"), JSONParseError(offset: 2, reason: .invalidNumber))
        XCTAssertEqual(parseError("[+1]"), JSONParseError(offset: 1, reason: .unexpectedByte))
        XCTAssertEqual(parseError("[NaN]"), JSONParseError(offset: 1, reason: .unexpectedByte))
        XCTAssertEqual(parseError("[tru]"), JSONParseError(offset: 4, reason: .unexpectedByte))
        XCTAssertEqual(parseError("\"abc"), JSONParseError(offset: 4, reason: .unexpectedEnd))
        XCTAssertEqual(parseError(""), JSONParseError(offset: 0, reason: .emptyDocument))
        XCTAssertEqual(parseError(" \n"), JSONParseError(offset: 2, reason: .emptyDocument))
        XCTAssertEqual(parseError("[1e1000000001]"), JSONParseError(offset: 1, reason: .numberOutOfRange))
        XCTAssertEqual(parseError("[1\u{0C}]"), JSONParseError(offset: 2, reason: .unexpectedByte), "form feed is not whitespace")
    }

    func testRejectsInvalidUTF8WithItsOffset() {
        XCTAssertEqual(parseError(bytes: Array("[\"ab".utf8) + [0xFF, 0x22, 0x5D]), JSONParseError(offset: 4, reason: .invalidUTF8))
        XCTAssertEqual(parseError(bytes: [0x22, 0xC0, 0xAF, 0x22]), JSONParseError(offset: 1, reason: .invalidUTF8), "overlong")
        XCTAssertEqual(parseError(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22]), JSONParseError(offset: 1, reason: .invalidUTF8), "encoded surrogate")
        XCTAssertEqual(parseError(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]), JSONParseError(offset: 1, reason: .invalidUTF8), "above U+10FFFF")
        XCTAssertEqual(parseError(bytes: [0x22, 0xE2, 0x82, 0x22]), JSONParseError(offset: 1, reason: .invalidUTF8), "truncated")
        XCTAssertEqual(parseError(bytes: [0x22, 0xE2, 0x82]), JSONParseError(offset: 3, reason: .unexpectedEnd))
        XCTAssertEqual(parseError(bytes: [0x5B, 0xC3, 0xA9, 0x5D]), JSONParseError(offset: 1, reason: .unexpectedByte), "non-ASCII outside strings")
        XCTAssertEqual(try JSONValue.parse([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22]), "😀")
    }

    func testRejectsByteOrderMarksAndUTF16() {
        XCTAssertEqual(parseError(bytes: [0xEF, 0xBB, 0xBF, 0x7B, 0x7D])?.reason, .byteOrderMark)
        XCTAssertEqual(parseError(bytes: [0x5B, 0x00, 0x5D, 0x00])?.reason, .byteOrderMark)
    }

    func testEnforcesTheDepthLimitExactly() throws {
        let limits = JSONLimits(maxDepth: 64)
        XCTAssertNoThrow(try JSONValue.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64), limits: limits))
        XCTAssertEqual(parseError(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), limits: limits),
                       JSONParseError(offset: 64, reason: .tooDeep))
        XCTAssertEqual(parseError(String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65), limits: limits)?.reason, .tooDeep)
    }

    func testHundredThousandOpeningBracketsAreAClearErrorNotACrash() {
        let error = parseError(String(repeating: "[", count: 100_000))
        XCTAssertEqual(error, JSONParseError(offset: 64, reason: .tooDeep))
        XCTAssertEqual(error?.description, "line 1, column 65 (byte 64): arrays and objects nested too deeply")
        // Even a raised limit stays within what recursive code can handle.
        let raised = parseError(String(repeating: "[", count: 100_000), limits: JSONLimits(maxDepth: .max))
        XCTAssertEqual(raised?.reason, .tooDeep)
        XCTAssertEqual(raised?.offset, 1000)
    }

    func testEnforcesTheStringLengthLimitOnValuesAndKeys() throws {
        let limits = JSONLimits(maxStringBytes: 8)
        XCTAssertEqual(try JSONValue.parse("\"12345678\"", limits: limits), "12345678")
        XCTAssertEqual(parseError("\"123456789\"", limits: limits), JSONParseError(offset: 1, reason: .stringTooLong))
        XCTAssertEqual(parseError("{\"123456789\":1}", limits: limits)?.reason, .stringTooLong)
        // Counted after unescaping, in UTF-8 bytes: "é" is two bytes.
        XCTAssertEqual(try JSONValue.parse(#""\u00e9\u00e9\u00e9\u00e9""#, limits: limits), "éééé")
        XCTAssertEqual(parseError(#""\u00e9\u00e9\u00e9\u00e9a""#, limits: limits)?.reason, .stringTooLong)
    }

    func testEnforcesTheMemberLimitOnArraysAndObjects() throws {
        let limits = JSONLimits(maxMembers: 3)
        XCTAssertNoThrow(try JSONValue.parse("[1,2,3]", limits: limits))
        XCTAssertEqual(parseError("[1,2,3,4]", limits: limits), JSONParseError(offset: 8, reason: .tooManyMembers))
        XCTAssertNoThrow(try JSONValue.parse(#"{"a":1,"b":2,"c":3}"#, limits: limits))
        XCTAssertEqual(parseError(#"{"a":1,"b":2,"c":3,"d":4}"#, limits: limits)?.reason, .tooManyMembers)
    }

    func testEnforcesTheDocumentSizeLimit() throws {
        let limits = JSONLimits(maxDocumentBytes: 10)
        XCTAssertNoThrow(try JSONValue.parse("[1,2,3,45]", limits: limits))
        XCTAssertEqual(parseError("[1,2,3,456]", limits: limits), JSONParseError(offset: 0, reason: .documentTooLarge))
        XCTAssertThrowsError(try JSONValue.parse(AnyCollection(Array("[1,2,3,456]".utf8)), limits: limits))
    }

    func testParsesNonContiguousCollections() throws {
        XCTAssertEqual(try JSONValue.parse(AnyCollection(Array(#"{"a":[1]}"#.utf8))), ["a": [1]])
    }

    /// The scanner skips eight bytes at a time; every position of a quote, escape, control
    /// character or non-ASCII byte inside a word must still be found.
    func testFindsSpecialBytesAtEveryOffsetOfAWord() throws {
        for prefix in 0..<20 {
            let lead = String(repeating: "a", count: prefix)
            XCTAssertEqual(try JSONValue.parse("[\"\(lead)\", \"\(lead)x\"]"), [.string(lead), .string(lead + "x")])
            XCTAssertEqual(try JSONValue.parse("\"\(lead)\\n\(lead)\""), .string(lead + "\n" + lead))
            XCTAssertEqual(try JSONValue.parse("\"\(lead)é\(lead)🐲\""), .string(lead + "é" + lead + "🐲"))
            XCTAssertEqual(parseError("\"\(lead)\u{01}\(lead)\""), JSONParseError(offset: prefix + 1, reason: .controlCharacterInString))
            XCTAssertEqual(parseError(bytes: Array("\"\(lead)".utf8) + [0xFF] + Array("\(lead)\"".utf8)), JSONParseError(offset: prefix + 1, reason: .invalidUTF8))
            XCTAssertEqual(parseError("\"\(lead)"), JSONParseError(offset: prefix + 1, reason: .unexpectedEnd))
        }
    }

    func testUnescapesEveryEscape() throws {
        XCTAssertEqual(try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0000\u001f\u20AC""#), "\"\\/\u{08}\u{0C}\n\r\t\u{00}\u{1F}€")
    }
}
