import JSON
import XCTest
@testable import Exchange

final class CanonicalEntryScannerTests: XCTestCase {
    /// The scanner's verdict must never contradict the full check (`CanonicalForm`).
    private func assertAgrees(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = Array(text.utf8)
        let full = CanonicalForm.isCanonical(bytes)
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
            // Found by the fuzzer: a seq that is not a number is canonical JSON all the same.
            #"{"!cto222222r":"police","eventevHash":"00","seq":"t1,i0me,:00:00.000Z"}"#,
        ]
        for text in cases { assertAgrees(text) }
        XCTAssertEqual(CanonicalEntryScanner.scan(Array("[]".utf8)).verdict, .notCanonical, "an entry is an object")
    }

    /// The vectors seen disagreeing (issue 12): one verdict, whichever path gives it.
    func testTheSeenVectorsGetOneVerdictOnBothPaths() {
        let expected: [(String, Bool)] = [
            (#"{"a":-0.5}"#, true),
            (#"{"a":0.5}"#, true),
            (#"{"a":-5}"#, true),
            (#"{"a":9007199254740992}"#, true),
            (#"{"a":9007199254740993}"#, false),
            (#"{"a":999999999999999}"#, true),
            (#"{"a":1000000000000000000000}"#, false),
            (#"{"a":1e+21}"#, true),
            (#"{"a":1e+400}"#, false),
            (#"{"a":-1e+400}"#, false),
            (#"{"a":[1e+400]}"#, false),
            (#"{"a":-0}"#, false),
            (#"{"a":-0.0}"#, false),
        ]
        for (text, canonical) in expected {
            XCTAssertEqual(CanonicalForm.isCanonical(Array(text.utf8)), canonical, text)
            assertAgrees(text)
            let verdict = CanonicalEntryScanner.scan(Array(text.utf8)).verdict
            if canonical { XCTAssertNotEqual(verdict, .notCanonical, "the fast path rejects \(text)") }
            else { XCTAssertNotEqual(verdict, .canonical, "the fast path accepts \(text)") }
        }
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
