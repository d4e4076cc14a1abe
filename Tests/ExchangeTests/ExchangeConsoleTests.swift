import Exchange
import JSON
import TestSupport
import XCTest

/// The exchange's reads for the console: each logged as the API logs the same reading, and
/// nothing else changed.
final class ExchangeConsoleTests: XCTestCase {
    func testTheSubjectTimelineOpensConsentDetailsButNotTheReferralAndLogsTheReads() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let head = fixture.headSeq
        let timeline = try await fixture.exchange.subjectTimeline(referral.subjectID, by: InProcessExchange.admin)
        XCTAssertEqual(timeline.subject.id, referral.subjectID)
        XCTAssertEqual(timeline.referrals.map(\.id), [referral.id])
        XCTAssertTrue(timeline.referrals[0].isReadable)
        XCTAssertEqual(Set(timeline.disclosures.map(\.summary.id)), Set(referral.disclosures.map(\.id)))
        XCTAssertEqual(timeline.consents.count, 1)
        guard case .shown(let details) = timeline.consents[0].details else { return XCTFail("details opened") }
        XCTAssertEqual(details["obtainedBy"]?.stringValue, "PC Sam Sample")
        XCTAssertEqual(timeline.log.map(\.seq), (1...head).reversed().map { $0 }, "newest first")
        XCTAssertFalse(timeline.logTruncated)
        let written = fixture.entries(after: head)
        XCTAssertEqual(written.map(\.draft.event), [.consentViewed, .logViewed])
        XCTAssertEqual(written.map(\.draft.actor), ["dpo", "dpo"])
        XCTAssertEqual(written[0].draft.details?["sealedDetails"], true)
        XCTAssertEqual(written[1].draft.subjectID, referral.subjectID)
        XCTAssertEqual(written[1].draft.details?["filter"]?["subject"]?.stringValue, referral.subjectID)

        // Once erased, nothing personal is opened: only the log read is recorded.
        let erasedFixture = try InProcessExchange()
        let gone = try await erasedFixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        _ = try await erasedFixture.exchange.eraseSubject(gone.subjectID, by: InProcessExchange.admin)
        let before = erasedFixture.headSeq
        let erased = try await erasedFixture.exchange.subjectTimeline(gone.subjectID, by: InProcessExchange.admin)
        XCTAssertEqual(erasedFixture.entries(after: before).map(\.draft.event), [.logViewed])
        XCTAssertFalse(erased.referrals[0].isReadable)
        guard case .erased = erased.consents[0].details else { return XCTFail("details erased") }

        let shorter = try await fixture.exchange.subjectTimeline(referral.subjectID, logLimit: 2, by: InProcessExchange.admin)
        XCTAssertEqual(shorter.log.count, 2)
        XCTAssertTrue(shorter.logTruncated)
        do {
            _ = try await fixture.exchange.subjectTimeline("00000000-0000-7000-8000-000000000000", by: InProcessExchange.admin)
            XCTFail("no such subject")
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .notFound)
        }
    }

    func testRevealingAReferralLogsItAndOnlyForItsOwnSubject() async throws {
        let fixture = try InProcessExchange()
        let first = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(referenceID: "A-1"), by: InProcessExchange.police)
        let second = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(referenceID: "A-2"), by: InProcessExchange.police)
        let head = fixture.headSeq
        let revealed = try await fixture.exchange.revealReferral(first.id, subjectID: first.subjectID, by: InProcessExchange.admin)
        XCTAssertEqual(revealed.document?["referenceId"]?.stringValue, "A-1")
        let written = fixture.entries(after: head)
        XCTAssertEqual(written.map(\.draft.event), [.referralViewed])
        XCTAssertEqual(written[0].draft.referralID, first.id)
        XCTAssertEqual(written[0].draft.details?["decrypted"], true)
        do {
            _ = try await fixture.exchange.revealReferral(first.id, subjectID: second.subjectID, by: InProcessExchange.admin)
            XCTFail("another subject's referral")
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .notFound)
        }
        XCTAssertEqual(fixture.headSeq, head + 1, "a refused reveal logs nothing")

        _ = try await fixture.exchange.eraseSubject(first.subjectID, by: InProcessExchange.admin)
        let erased = try await fixture.exchange.revealReferral(first.id, subjectID: first.subjectID, by: InProcessExchange.admin)
        XCTAssertNil(erased.document)
        XCTAssertEqual(fixture.log.last?.draft.details?["decrypted"], false)
    }

    func testOverridesAreTheDisclosuresWithoutConsentInTheRange() async throws {
        let fixture = try InProcessExchange()
        let withConsent = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(referenceID: "C-1"), by: InProcessExchange.police)
        let without = try await fixture.exchange.submitReferral(
            try InProcessExchange.domesticAbuseReferral(referenceID: "C-2", withConsent: false), by: InProcessExchange.police
        )
        fixture.clock.advance(by: .seconds(60))
        _ = try await fixture.exchange.authoriseOverride(referralID: without.id, try InProcessExchange.example("override-1"), by: InProcessExchange.officer)
        let start = Timestamp(milliseconds: 0)
        let end = Timestamp(milliseconds: fixture.clock.now.milliseconds + 1)
        let head = fixture.headSeq
        let overrides = try await fixture.exchange.overrides(since: start, until: end, basis: nil, limit: 100, by: InProcessExchange.admin)
        XCTAssertEqual(overrides.map(\.draft.referralID), [without.id])
        XCTAssertEqual(overrides.first?.draft.lawfulBasis, .vitalInterests)
        XCTAssertTrue(overrides.first?.draft.justification?.contains("MARAC") == true, "the justification opened for the reader")
        XCTAssertNotEqual(withConsent.id, without.id)
        let otherBasis = try await fixture.exchange.overrides(since: start, until: end, basis: .publicTask, limit: 100, by: InProcessExchange.admin)
        XCTAssertEqual(otherBasis.count, 0)
        let later = try await fixture.exchange.overrides(since: end, until: Timestamp(milliseconds: end.milliseconds + 1000), basis: nil, limit: 100, by: InProcessExchange.admin)
        XCTAssertEqual(later.count, 0)
        let written = fixture.entries(after: head)
        XCTAssertEqual(written.map(\.draft.event), [.logViewed, .logViewed, .logViewed], "each reading logged")
        XCTAssertEqual(written[1].draft.details?["filter"]?["basis"]?.stringValue, "public-task")
    }

    func testTheLastVerificationIsReadBackFromTheLogLookingOnlyAtWhatIsNew() async throws {
        let fixture = try InProcessExchange()
        _ = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let none = try await fixture.exchange.recordedVerification(after: nil)
        XCTAssertNil(none.found)
        XCTAssertEqual(none.head, fixture.headSeq)
        let report = try await fixture.exchange.verifyLog(publicKey: nil, kept: nil, logRetention: nil, by: InProcessExchange.admin)
        let found = try await fixture.exchange.recordedVerification(after: none.head)
        let recorded = try XCTUnwrap(found.found)
        XCTAssertEqual(recorded.seq, fixture.headSeq)
        XCTAssertEqual(recorded.actor, "dpo")
        XCTAssertTrue(recorded.valid)
        XCTAssertEqual(recorded.entries, report.entries)
        XCTAssertEqual(recorded.lastSeq, report.lastSeq)
        // Nothing new since: nothing found, and the caller keeps what it had.
        let nothingNew = try await fixture.exchange.recordedVerification(after: found.head)
        XCTAssertNil(nothingNew.found)
        // A later log read does not hide it from a caller that starts afresh.
        _ = try await fixture.exchange.logEntries(LogFilter(), limit: 1, by: InProcessExchange.admin)
        let afresh = try await fixture.exchange.recordedVerification(after: nil)
        XCTAssertEqual(afresh.found?.seq, recorded.seq)
    }
}
