import Foundation
import JSON
import TestSupport
import XCTest

/// nst/JSONTestSuite `test_parsing`: every `y_` file parses, every `n_` file is rejected,
/// and every `i_` (implementation-defined) file has the outcome decided below.
final class JSONTestSuiteTests: XCTestCase {
    /// The decision for every `i_` file (true: accepted). A new `i_` file in the suite
    /// fails the test until it is decided here.
    static let implementationDefined: [String: Bool] = [
        // Numbers: exact decimals, so huge and tiny values are kept, not rounded to ±inf or 0.
        "i_number_double_huge_neg_exp.json": true,
        "i_number_neg_int_huge_exp.json": true,
        "i_number_pos_double_huge_exp.json": true,
        "i_number_real_neg_overflow.json": true,
        "i_number_real_pos_overflow.json": true,
        "i_number_real_underflow.json": true,
        "i_number_too_big_neg_int.json": true,
        "i_number_too_big_pos_int.json": true,
        "i_number_very_big_negative_int.json": true,
        // An exponent of hundreds of digits is beyond ±10⁹: refused as out of range.
        "i_number_huge_exp.json": false,
        // Lone or mismatched surrogate escapes cannot be represented in a Unicode string:
        // refused, so that no two readers decode them differently.
        "i_object_key_lone_2nd_surrogate.json": false,
        "i_string_1st_surrogate_but_2nd_missing.json": false,
        "i_string_1st_valid_surrogate_2nd_invalid.json": false,
        "i_string_incomplete_surrogate_and_escape_valid.json": false,
        "i_string_incomplete_surrogate_pair.json": false,
        "i_string_incomplete_surrogates_escape_valid.json": false,
        "i_string_invalid_lonely_surrogate.json": false,
        "i_string_invalid_surrogate.json": false,
        "i_string_inverted_surrogates_U+1D11E.json": false,
        "i_string_lone_second_surrogate.json": false,
        // Invalid UTF-8 is refused, never replaced with U+FFFD.
        "i_string_UTF-8_invalid_sequence.json": false,
        "i_string_UTF8_surrogate_U+D800.json": false,
        "i_string_invalid_utf-8.json": false,
        "i_string_iso_latin_1.json": false,
        "i_string_lone_utf8_continuation_byte.json": false,
        "i_string_not_in_unicode_range.json": false,
        "i_string_overlong_sequence_2_bytes.json": false,
        "i_string_overlong_sequence_6_bytes.json": false,
        "i_string_overlong_sequence_6_bytes_null.json": false,
        "i_string_truncated-utf-8.json": false,
        // UTF-8 only: no UTF-16, and no byte order mark (RFC 8259 §8.1).
        "i_string_UTF-16LE_with_BOM.json": false,
        "i_string_utf16BE_no_BOM.json": false,
        "i_string_utf16LE_no_BOM.json": false,
        "i_structure_UTF-8_BOM_empty_object.json": false,
        // Deeper than the default nesting limit of 64.
        "i_structure_500_nested_arrays.json": false,
    ]

    /// `y_` files that refex deliberately rejects, each with the only error allowed. The
    /// suite treats duplicate keys as valid JSON (RFC 8259 says names SHOULD be unique);
    /// refex refuses them, because two readers that keep different duplicates see two
    /// different documents, and that is how validation gets bypassed.
    static let rejectedDespiteSuite: [String: JSONParseError.Reason] = [
        "y_object_duplicated_key.json": .duplicateKey,
        "y_object_duplicated_key_and_value.json": .duplicateKey,
    ]

    func testEveryFileHasTheRequiredOrDecidedOutcome() throws {
        let directory = try ConformanceSuite.suite("JSONTestSuite/test_parsing")
        let files = try ConformanceSuite.files(in: directory, extension: "json")
        XCTAssertGreaterThan(files.count, 300, "test_parsing looks incomplete")
        var counts: [Character: (passed: Int, total: Int)] = [:]
        var seenImplementationDefined: Set<String> = []
        for file in files {
            let name = file.lastPathComponent
            let bytes = try Data(contentsOf: file)
            let parsed: Bool
            var failure: JSONParseError?
            do {
                _ = try JSONValue.parse(bytes)
                parsed = true
            } catch {
                parsed = false
                failure = error
            }
            let expected: Bool
            switch name.first {
            case "y" where Self.rejectedDespiteSuite[name] != nil:
                XCTAssertEqual(failure?.reason, Self.rejectedDespiteSuite[name], name)
                print("JSONTestSuite \(name): rejected by design (\(failure?.description ?? "accepted"))")
                continue
            case "y": expected = true
            case "n": expected = false
            case "i":
                guard let decision = Self.implementationDefined[name] else {
                    XCTFail("\(name): implementation-defined file without a decision; add it to implementationDefined")
                    continue
                }
                seenImplementationDefined.insert(name)
                expected = decision
            default:
                XCTFail("\(name): unknown prefix")
                continue
            }
            let kind = name.first ?? "?"
            var count = counts[kind] ?? (0, 0)
            count.total += 1
            if parsed == expected {
                count.passed += 1
            } else {
                XCTFail("\(name): expected \(expected ? "accept" : "reject"), got \(parsed ? "accept" : "reject")")
            }
            counts[kind] = count
        }
        XCTAssertEqual(seenImplementationDefined, Set(Self.implementationDefined.keys), "decided i_ files missing from the suite")
        for kind in counts.keys.sorted() {
            let count = counts[kind] ?? (0, 0)
            print("JSONTestSuite \(kind)_: \(count.passed)/\(count.total) as required")
        }
        let accepted = Self.implementationDefined.filter(\.value).keys.sorted()
        print("JSONTestSuite i_ accepted: \(accepted.joined(separator: ", "))")
        print("JSONTestSuite i_ rejected: \(Self.implementationDefined.count - accepted.count) others")
        XCTAssertGreaterThan(counts["y"]?.total ?? 0, 90)
        XCTAssertGreaterThan(counts["n"]?.total ?? 0, 180)
    }

    /// Every accepted `y_` document survives a round trip through the writers unchanged in value.
    func testAcceptedFilesRoundTripThroughTheWriters() throws {
        let directory = try ConformanceSuite.suite("JSONTestSuite/test_parsing")
        var count = 0
        for file in try ConformanceSuite.files(in: directory, extension: "json")
        where file.lastPathComponent.hasPrefix("y_") && JSONTestSuiteTests.rejectedDespiteSuite[file.lastPathComponent] == nil {
            let value = try JSONValue.parse(try Data(contentsOf: file))
            XCTAssertEqual(try JSONValue.parse(value.serialized()), value, file.lastPathComponent)
            XCTAssertEqual(try JSONValue.parse(value.prettyPrinted()), value, file.lastPathComponent)
            XCTAssertNoThrow(try JSONValue.parse(value.canonicalized()), file.lastPathComponent)
            count += 1
        }
        XCTAssertGreaterThan(count, 90)
    }
}
