import Console
import Exchange
import JSON
import XCTest

/// Log entries in plain English, from their typed values.
final class EventSentenceTests: XCTestCase {
    func entry(_ draft: LogEntryDraft, at time: String) throws -> LogEntry {
        LogEntry(sealing: draft, seq: 7, time: try XCTUnwrap(Timestamp(rfc3339: time)), prevHash: LogEntry.genesisHash)
    }

    func context() throws -> SentenceContext {
        SentenceContext(
            time: try XCTUnwrap(LocalTime(identifier: "Europe/London")),
            recipientNames: ["dv-support": "Development domestic abuse service"],
            partnerNames: ["police": "Development Constabulary"],
            consents: ["c-1": .init(method: "verbal", obtainedAt: try XCTUnwrap(Timestamp(rfc3339: "2026-03-02T10:00:00Z")), obtainedBy: "PC 4312")]
        )
    }

    func testADeliveryUnderConsentSaysWhoRecordedItWhenAndHow() throws {
        let draft = LogEntryDraft(
            event: .disclosureDelivered, actor: "system", referralID: "r-1", subjectID: "s-1", disclosureID: "d-1",
            recipientID: "dv-support", service: "domestic-abuse", lawfulBasis: .consent, consentID: "c-1"
        )
        XCTAssertEqual(
            EventSentence.sentence(try entry(draft, at: "2026-03-03T14:02:00Z"), try context()),
            "Sent to Development domestic abuse service for domestic abuse on 3 March 2026 at 14:02 (+00:00), with the subject's consent recorded by PC 4312 on 2 March 2026 (verbal)."
        )
    }

    func testAnOverrideSaysItHadNoConsentItsBasisJustificationAndWhoAuthorisedIt() throws {
        var draft = LogEntryDraft(
            event: .disclosureAuthorised, actor: "police", recipientID: "dv-support", service: "domestic-abuse", lawfulBasis: .vitalInterests
        )
        draft.justification = "Immediate risk to life reported by the officer."
        XCTAssertEqual(
            EventSentence.sentence(try entry(draft, at: "2026-07-01T09:15:00Z"), try context()),
            "Authorised to go to Development domestic abuse service for domestic abuse on 1 July 2026 at 10:15 (+01:00), without consent, on the lawful basis of vital interests (justification: Immediate risk to life reported by the officer.). Authorised by Development Constabulary (police)."
        )
    }

    func testWithheldFailedAndUnknownRecipientsReadAsWords() throws {
        let context = try context()
        let withheld = LogEntryDraft(event: .disclosureWithheld, actor: "police", recipientID: "victim-support", service: "general-victim-support", reason: "awaiting-consent")
        XCTAssertEqual(
            EventSentence.sentence(try entry(withheld, at: "2026-01-05T08:00:00Z"), context),
            "Withheld from victim-support for general victim support on 5 January 2026 at 08:00 (+00:00): waiting for the subject's consent."
        )
        let failed = LogEntryDraft(event: .disclosureFailed, actor: "system", recipientID: "dv-support", reason: "http-403")
        XCTAssertEqual(
            EventSentence.sentence(try entry(failed, at: "2026-01-05T08:00:00Z"), context),
            "Could not be delivered to Development domestic abuse service; given up on 5 January 2026 at 08:00 (+00:00): http 403."
        )
        let erased = LogEntryDraft(event: .subjectErased, actor: "system", reason: "retention")
        XCTAssertEqual(
            EventSentence.sentence(try entry(erased, at: "2026-01-05T08:00:00Z"), context),
            "The subject's personal data was erased by refex itself on 5 January 2026 at 08:00 (+00:00): the retention period ended."
        )
    }

    func testEveryEventHasASentenceThatIsNotItsRawName() throws {
        let context = try context()
        for event in LogEvent.allCases {
            let sentence = EventSentence.sentence(try entry(LogEntryDraft(event: event, actor: "police"), at: "2026-01-05T08:00:00Z"), context)
            XCTAssertFalse(sentence.contains(event.rawValue), sentence)
            XCTAssertTrue(sentence.contains("5 January 2026"), sentence)
            XCTAssertTrue(sentence.hasSuffix("."), sentence)
        }
    }

    func testAVerificationSaysWhetherTheLogWasIntact() throws {
        let context = try context()
        let good = LogEntryDraft(event: .logViewed, actor: "hub-admin", details: ["action": "verify", "valid": true])
        XCTAssertTrue(EventSentence.sentence(try entry(good, at: "2026-01-05T08:00:00Z"), context).contains("it was intact"))
        let bad = LogEntryDraft(event: .logViewed, actor: "hub-admin", details: ["action": "verify", "valid": false])
        XCTAssertTrue(EventSentence.sentence(try entry(bad, at: "2026-01-05T08:00:00Z"), context).contains("FAILED"))
    }
}
