import Crypto
import JSON
import XCTest
@testable import Exchange

final class BlindIndexTests: XCTestCase {
    func testNamesAreNormalisedForCaseAccentsSpacesAndPunctuation() {
        XCTAssertEqual(BlindIndex.normalisedName("Zoë O'Brien-Smith"), "zoeobriensmith")
        XCTAssertEqual(BlindIndex.normalisedName("  ZOE  obrien smith "), "zoeobriensmith")
        XCTAssertEqual(BlindIndex.normalisedName("Ａｌｅｘ"), "alex", "full-width letters are compatibility-decomposed")
        XCTAssertEqual(BlindIndex.normalisedName("Łukasz"), "łukasz", "a letter that is not a base plus a mark stays")
        XCTAssertEqual(BlindIndex.normalisedName("Nguyễn"), "nguyen")
        XCTAssertEqual(BlindIndex.normalisedName("'-. "), "")
        XCTAssertEqual(BlindIndex.normalisedReference(" cr-2026 /001 "), "CR-2026/001")
    }

    /// ASCII names take a shortcut past Foundation's decomposition: it must agree with the
    /// Unicode rules on every ASCII character, alone and among others.
    func testTheASCIIShortcutNormalisesAsTheUnicodeRulesDo() {
        for byte in UInt8(0)..<0x80 {
            let text = String(decoding: [byte, UInt8(ascii: "A"), byte, UInt8(ascii: "z"), UInt8(ascii: "7")], as: UTF8.self)
            XCTAssertEqual(BlindIndex.normalisedName(text), BlindIndex.normalisedNameByUnicode(text), "byte \(byte)")
        }
        for text in ["O'Brien-Smith", "  Mary Ann ", "", "ÉLODIE", "Zoë", "ﬁona", "Ⅻ", "İlker"] {
            XCTAssertEqual(BlindIndex.normalisedName(text), BlindIndex.normalisedNameByUnicode(text), text)
        }
    }

    func testDatesMustBeCalendarDates() {
        XCTAssertEqual(BlindIndex.normalisedDate("1990-04-12"), "1990-04-12")
        XCTAssertEqual(BlindIndex.normalisedDate("2024-02-29"), "2024-02-29")
        for bad in ["1990-02-30", "2023-02-29", "1990-13-01", "1990-00-10", "1990-4-12", "12/04/1990", "1990-04-12T00:00", "", "1900-02-29"] {
            XCTAssertNil(BlindIndex.normalisedDate(bad), bad)
        }
    }

    func testDigestsDependOnTheMasterKeyAndTheKindAndAreNotTheDigestKeys() {
        let master = SymmetricKey.random()
        let index = BlindIndex(keyring: Keyring(masterKey: master))
        let same = BlindIndex(keyring: Keyring(masterKey: master))
        let other = BlindIndex(keyring: Keyring(masterKey: SymmetricKey.random()))
        XCTAssertEqual(index.digest(.reference, ["ABC"]), same.digest(.reference, ["ABC"]))
        XCTAssertNotEqual(index.digest(.reference, ["ABC"]), other.digest(.reference, ["ABC"]))
        XCTAssertNotEqual(index.digest(.reference, ["ABC"]), index.digest(.crimeReference, ["ABC"]))
        XCTAssertNotEqual(index.digest(.nameAndDateOfBirth, ["ab", "c", "1990-01-01"]), index.digest(.nameAndDateOfBirth, ["a", "bc", "1990-01-01"]))
        XCTAssertNotEqual(index.digest(.reference, ["ABC"]), Keyring(masterKey: master).digest("reference", Array("ABC".utf8)))
    }

    func testAReferralIsIndexedByEachKeyItHolds() throws {
        let index = BlindIndex(keyring: Keyring(masterKey: SymmetricKey.random()))
        let document = try JSONValue.parse(#"""
            {"referenceId": "R-1", "offence": {"crimeReference": "CR-1"},
             "subject": {"name": {"given": "Alex", "preferred": "Al", "family": "Example"}, "dateOfBirth": "1990-04-12"}}
            """#)
        let entries = index.entries(for: document, subjectID: "s", referralID: "r")
        XCTAssertEqual(entries.map(\.kind), [.reference, .crimeReference, .nameAndDateOfBirth, .nameAndDateOfBirth])
        XCTAssertEqual(entries[2].digest, index.digest(.nameAndDateOfBirth, ["alex", "example", "1990-04-12"]))
        XCTAssertEqual(entries[3].digest, index.digest(.nameAndDateOfBirth, ["al", "example", "1990-04-12"]))
        let withoutBirth = try JSONValue.parse(#"{"referenceId": "R-1", "subject": {"name": {"family": "Example"}}}"#)
        XCTAssertEqual(index.entries(for: withoutBirth, subjectID: "s", referralID: "r").map(\.kind), [.reference])
    }

    func testFieldNamesComeFromTheSchemaTitles() {
        let names = FieldNames(folder: "\(#filePath.split(separator: "/").dropLast(3).joined(separator: "/").prefixedWithSlash)/schemas")
        XCTAssertEqual(names.name(of: "/subject/name/given"), "Subject › Name › Given name")
        XCTAssertEqual(names.name(of: "/subject/contact/address/postcode"), "Subject › Contact › Postal address › Postcode")
        XCTAssertEqual(names.name(of: "/supportNeeds/0/service"), "Support needs › 1 › Service")
        XCTAssertEqual(names.name(of: "/referenceId"), "Partner's reference")
        XCTAssertEqual(names.name(of: "/unknown/fieldName"), "Unknown › Field name")
        XCTAssertEqual(FieldNames().name(of: "/subject/dateOfBirth"), "Subject › Date of birth")
    }
}

private extension String {
    var prefixedWithSlash: String { "/" + self }
}
