import JSON
import XCTest
@testable import Exchange

final class CanonicalEntryScannerTests: XCTestCase {
    /// The scanner's verdict must never contradict the full check (parse, canonicalize, compare).
    private func assertAgrees(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = Array(text.utf8)
        let full = (try? JSONValue.parse(bytes)).map { $0.canonicalized() == bytes } ?? false
        let (_, verdict) = CanonicalEntryScanner.scan(bytes)
        switch verdict {
        case .canonical: XCTAssertTrue(full, "scanner said canonical: \(text)", file: file, line: line)
        case .notCanonical: XCTAssertFalse(full, "scanner said not canonical: \(text)", file: file, line: line)
        case .unsure: break
        }
    }

    func testAgreesWithTheFullCheck() {
        let cases = [
            #"{"actor":"police","event":"referral.received","prevHash":"00","seq":1}"#,
            #"{"seq":1,"actor":"police"}"#,
            #"{"actor":"police", "seq":1}"#,
            #"{"a":[1,2,{"b":null,"c":true}],"d":false}"#,
            #"{"a":"x\"y\\z\n\u001f"}"#,
            #"{"a":"\/"}"#,
            #"{"a":"\u0041"}"#,
            #"{"a":"\u000a"}"#,
            #"{"a":-0}"#,
            #"{"a":01}"#,
            #"{"a":1.5}"#,
            #"{"a":1e3}"#,
            #"{"a":"é"}"#,
            #"{"a":1,"a":2}"#,
            #"{"b":1,"a":2}"#,
            #"{"a":tru}"#,
            #"{"a":1}x"#,
            #"{}"#,
            #"{"a":[]}"#,
            #"{"A":1,"a":2}"#,
            #"{"a":"\u001F"}"#,
        ]
        for text in cases { assertAgrees(text) }
        XCTAssertEqual(CanonicalEntryScanner.scan(Array("[]".utf8)).verdict, .notCanonical, "an entry is an object")
    }

    func testReadsTheTopLevelMembers() {
        let bytes = Array(#"{"actor":"police","details":{"seq":9},"event":"x.y","prevHash":"abc","seq":42}"#.utf8)
        let (fields, verdict) = CanonicalEntryScanner.scan(bytes)
        XCTAssertEqual(verdict, .canonical)
        XCTAssertEqual(fields?.seq, 42, "a nested seq must not be read as the entry's")
        XCTAssertEqual(fields?.prevHash.map { String(decoding: bytes[$0], as: UTF8.self) }, "abc")
        XCTAssertEqual(fields?.event.map { String(decoding: bytes[$0], as: UTF8.self) }, "x.y")
    }

    func testRealEntriesAreCanonical() {
        let draft = LogEntryDraft(event: .disclosureAuthorised, actor: "police", referralID: "r", subjectID: "s", recipientID: "x",
                                  service: "fraud", lawfulBasis: .consent, justificationDigest: "Line one\nand \"two\"", pointers: ["/a/0", "/b"],
                                  categories: ["health"], details: ["n": 3, "m": ["k": true]])
        let entry = LogEntry(sealing: draft, seq: 12, time: Timestamp(milliseconds: 5), prevHash: LogEntry.genesisHash)
        let (fields, verdict) = CanonicalEntryScanner.scan(entry.canonical)
        XCTAssertEqual(verdict, .canonical)
        XCTAssertEqual(fields?.seq, 12)
    }
}
