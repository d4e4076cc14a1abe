import Crypto
import JSON
import XCTest
@testable import Exchange

final class LogEntryTests: XCTestCase {
    func testHashIsSHA256OfTheCanonicalEntryWithoutHash() throws {
        let draft = LogEntryDraft(event: .disclosureAuthorised, actor: "police", referralID: "r", subjectID: "s", recipientID: "x",
                                  service: "fraud", lawfulBasis: .consent, consentID: "c", pointers: ["/a"], categories: ["health"])
        let entry = LogEntry(sealing: draft, seq: 7, time: Timestamp(milliseconds: 1_795_910_400_123), prevHash: LogEntry.genesisHash)
        let expected = #"{"actor":"police","categories":["health"],"consentId":"c","event":"disclosure.authorised","lawfulBasis":"consent","pointers":["/a"],"prevHash":"0000000000000000000000000000000000000000000000000000000000000000","recipient":"x","referralId":"r","seq":7,"service":"fraud","subjectId":"s","time":"2026-11-29T00:00:00.123Z"}"#
        XCTAssertEqual(String(decoding: entry.canonical, as: UTF8.self), expected)
        XCTAssertEqual(entry.hash, SHA256.hash(Array(expected.utf8)).hexString)
        XCTAssertEqual(entry.json["hash"]?.stringValue, entry.hash)
    }

    func testTheDirectWriterMatchesTheJSONModulesCanonicalForm() {
        let tricky = ["plain", "quote \" and backslash \\", "tab\tline\nfeed\r\u{08}\u{0C}", "\u{01}\u{1F}\u{7F}", "é ü 漢字 😀", "</script>"]
        for (index, text) in tricky.enumerated() {
            let draft = LogEntryDraft(
                event: .disclosureAuthorised, actor: text, referralID: index % 2 == 0 ? text : nil, subjectID: "s", disclosureID: "d",
                recipientID: text, service: "fraud", lawfulBasis: .vitalInterests, consentID: index % 3 == 0 ? nil : "c",
                justificationDigest: text, pointers: [text, "/a"], categories: index % 2 == 0 ? [] : [text], reason: text,
                details: index % 2 == 0 ? nil : ["filter": ["subject": .string(text)], "n": 3]
            )
            let time = Timestamp(milliseconds: 1_795_910_400_123 + Int64(index))
            XCTAssertEqual(
                LogEntry.canonicalBytes(draft, seq: Int64(index + 1), time: time, prevHash: LogEntry.genesisHash),
                LogEntry.body(draft, seq: Int64(index + 1), time: time, prevHash: LogEntry.genesisHash).canonicalized(),
                text.debugDescription
            )
        }
    }

    /// Issue 17: a draft prepared on the request's thread seals to the same bytes and hash as the
    /// draft sealed whole on the writer, for every shape of member around the chain link.
    func testAPreparedDraftSealsToTheSameEntry() {
        let drafts = [
            LogEntryDraft(event: .referralReceived, actor: "police"),
            LogEntryDraft(event: .referralReceived, actor: "police", referralID: "r", subjectID: "s", details: ["schema": "urn:x", "services": ["a"]]),
            LogEntryDraft(
                event: .disclosureWithheld, actor: "system", referralID: "r\"", subjectID: "s", disclosureID: "d", recipientID: "x",
                service: "fraud", lawfulBasis: .publicTask, consentID: "c", justificationDigest: "j", pointers: ["/a", "/b"],
                categories: ["health"], reason: "no-consent\n"
            ),
        ]
        for (index, draft) in drafts.enumerated() {
            let time = Timestamp(milliseconds: 1_795_910_400_123 + Int64(index))
            let prevHash = String(repeating: "ab", count: 32)
            let whole = LogEntry(sealing: draft, seq: Int64(100 + index), time: time, prevHash: prevHash)
            let prepared = LogEntry(sealing: draft.prepared(), seq: Int64(100 + index), time: time, prevHash: prevHash)
            XCTAssertEqual(prepared.canonical, whole.canonical, "draft \(index)")
            XCTAssertEqual(prepared.hash, whole.hash)
            XCTAssertEqual(whole.canonical, LogEntry.body(draft, seq: Int64(100 + index), time: time, prevHash: prevHash).canonicalized())
        }
    }

    func testEntryReadsBackFromItsCanonicalBytes() throws {
        let draft = LogEntryDraft(event: .logViewed, actor: "hub-admin", details: ["filter": ["subject": "s"]])
        let entry = LogEntry(sealing: draft, seq: 1, time: Timestamp(milliseconds: 0), prevHash: LogEntry.genesisHash)
        let read = try XCTUnwrap(LogEntry(canonical: entry.canonical, hash: entry.hash))
        XCTAssertEqual(read, entry)
    }

    func testAnyChangeChangesTheHash() {
        let base = LogEntryDraft(event: .referralReceived, actor: "police", referralID: "r")
        var other = base
        other.actor = "partner-b"
        let time = Timestamp(milliseconds: 5)
        XCTAssertNotEqual(LogEntry(sealing: base, seq: 1, time: time, prevHash: LogEntry.genesisHash).hash,
                          LogEntry(sealing: other, seq: 1, time: time, prevHash: LogEntry.genesisHash).hash)
        XCTAssertNotEqual(LogEntry(sealing: base, seq: 1, time: time, prevHash: LogEntry.genesisHash).hash,
                          LogEntry(sealing: base, seq: 2, time: time, prevHash: LogEntry.genesisHash).hash)
    }
}

final class LogVerifierTimeTests: XCTestCase {
    func testEntryTimesParseToTheirMilliseconds() {
        for milliseconds: Int64 in [0, 1, 999, 86_399_999, 951_782_400_123, 1_796_000_000_000, 4_102_444_799_999] {
            let text = Timestamp(milliseconds: milliseconds).description
            XCTAssertEqual(LogVerifier.millisecondsSince1970(ArraySlice(Array(text.utf8))), milliseconds, text)
        }
        for text in ["2026-11-29T07:16:37Z", "2026-11-29T07:16:37.123+00:00", "2026-13-29T07:16:37.123Z", "2026-11-29 07:16:37.123Z"] {
            XCTAssertNil(LogVerifier.millisecondsSince1970(ArraySlice(Array(text.utf8))), text)
        }
    }
}
