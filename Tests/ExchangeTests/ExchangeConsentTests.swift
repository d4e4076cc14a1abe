import Exchange
import JSON
import TestSupport
import XCTest

/// Consent recorded, released, withdrawn, and a subject leaving the service, in process over the
/// in-memory store: the records and log entries each leaves.
final class ExchangeConsentTests: XCTestCase {
    func testConsentReleasesTheDisclosuresItCoversAndARepeatIsAnsweredOnce() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let head = fixture.headSeq
        fixture.clock.advance(by: .seconds(3600))
        let answer = try await fixture.exchange.recordConsent(try InProcessExchange.consent(for: referral.id), by: InProcessExchange.police)

        let consent = try XCTUnwrap(fixture.tables.consents[answer.id]?.record)
        XCTAssertEqual(consent.purposes, ["general-victim-support"])
        XCTAssertEqual(consent.recordedAt, fixture.clock.now)
        XCTAssertEqual(consent.obtainedAt, Timestamp(rfc3339: "2026-11-21T09:00:00Z"))
        XCTAssertEqual(consent.expiresAt, Timestamp(rfc3339: "2027-11-21T09:00:00Z"))
        XCTAssertNotNil(consent.documentDigest)
        XCTAssertNotNil(consent.receipt)
        XCTAssertFalse(String(decoding: consent.sealedDetails ?? [], as: UTF8.self).contains("Called back"), "notes are sealed")

        let released = try fixture.disclosure(referralID: referral.id, recipient: "victim-support")
        XCTAssertEqual(released.state, .queued)
        XCTAssertEqual(released.lawfulBasis, .consent)
        XCTAssertEqual(released.consentID, answer.id)
        XCTAssertNil(released.reason)
        XCTAssertEqual(fixture.tables.outbox[released.id]?.record.recipientID, "victim-support")
        XCTAssertEqual(answer.released.count, 1)

        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.consentRecorded, .disclosureAuthorised])
        XCTAssertEqual(entries[0].draft.consentID, answer.id)
        XCTAssertEqual(entries[0].draft.referralID, referral.id)
        XCTAssertEqual(entries[1].draft.disclosureID, released.id)
        XCTAssertEqual(entries[1].draft.consentID, answer.id)
        XCTAssertEqual(entries[1].draft.lawfulBasis, .consent)
        fixture.assertLogHoldsNone(of: ["PC Sam Sample", "Called back"])

        let again = try await fixture.exchange.recordConsent(try InProcessExchange.consent(for: referral.id), by: InProcessExchange.police)
        XCTAssertTrue(again.isRepeat)
        XCTAssertEqual(again.id, answer.id)
        XCTAssertEqual(fixture.tables.consents.count, 2, "the referral's own consent and this one, once")
        XCTAssertEqual(fixture.headSeq, head + 2, "a repeat is not logged")
        try await fixture.assertLogVerifies()
    }

    func testWithdrawingOneConsentStopsOnlyWhatStoodOnItAndKeepsTheSubjectWhileAnotherIsInForce() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let dv = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        let first = try XCTUnwrap(dv.consentID)
        try await fixture.deliver(dv.id)
        XCTAssertEqual(try fixture.disclosure(referralID: referral.id, recipient: "dv-support").state, .delivered)
        XCTAssertEqual(fixture.log.last?.draft.event, .disclosureDelivered)
        let second = try await fixture.exchange.recordConsent(try InProcessExchange.consent(for: referral.id), by: InProcessExchange.police)
        let head = fixture.headSeq
        fixture.clock.advance(by: .seconds(60))

        let answer = try await fixture.exchange.withdrawConsent(first, by: InProcessExchange.police)
        XCTAssertFalse(answer.erased)
        XCTAssertEqual(fixture.tables.consents[first]?.record.withdrawnAt, fixture.clock.now)
        XCTAssertNil(fixture.tables.consents[second.id]?.record.withdrawnAt)
        let told = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        XCTAssertEqual(told.state, .delivered, "delivered stays delivered")
        XCTAssertEqual(told.reason, "consent-withdrawn", "and records that its recipient was told to erase it")
        let notices = fixture.tables.outbox.values.map(\.record).filter { $0.kind == .erasureNotice }
        XCTAssertEqual(notices.map(\.recipientID), ["dv-support"])
        XCTAssertEqual(notices.first?.disclosureID, dv.id)
        let untouched = try fixture.disclosure(referralID: referral.id, recipient: "victim-support")
        XCTAssertEqual(untouched.state, .queued, "a disclosure on another consent is untouched")
        XCTAssertEqual(untouched.consentID, second.id)
        XCTAssertNil(try fixture.subject(untouched.subjectID).erasedAt)
        XCTAssertNotNil(fixture.tables.subjectKeys[untouched.subjectID])

        var entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.consentWithdrawn, .noticeQueued])
        XCTAssertEqual(entries[0].draft.consentID, first)
        XCTAssertEqual(entries[0].draft.reason, "consent-withdrawn")
        XCTAssertEqual(entries[1].draft.recipientID, "dv-support")
        XCTAssertEqual(entries[1].draft.disclosureID, dv.id)
        XCTAssertEqual(entries[1].draft.consentID, first)

        // The repeat is the first answer, with nothing sent again.
        let repeated = try await fixture.exchange.withdrawConsent(first, by: InProcessExchange.police)
        XCTAssertTrue(repeated.isRepeat)
        XCTAssertEqual(repeated.json, answer.json)
        XCTAssertEqual(fixture.headSeq, head + 2)

        // The last consent withdrawn: nothing else makes keeping the data lawful, so it is erased.
        let last = fixture.headSeq
        _ = try await fixture.exchange.withdrawConsent(second.id, by: InProcessExchange.police)
        let cancelled = try fixture.disclosure(referralID: referral.id, recipient: "victim-support")
        XCTAssertEqual(cancelled.state, .cancelled)
        XCTAssertEqual(cancelled.reason, "consent-withdrawn")
        XCTAssertNil(fixture.tables.outbox[cancelled.id], "the cancelled disclosure left the outbox")
        XCTAssertNotNil(try fixture.subject(cancelled.subjectID).erasedAt)
        XCTAssertNil(fixture.tables.subjectKeys[cancelled.subjectID])
        XCTAssertNil(try fixture.referral(referral.id).sealedBody)
        entries = fixture.entries(after: last)
        XCTAssertEqual(entries.map(\.draft.event), [.consentWithdrawn, .disclosureCancelled, .subjectErased])
        XCTAssertEqual(entries[1].draft.consentID, second.id)
        XCTAssertEqual(entries[2].draft.consentID, second.id)
        XCTAssertEqual(entries[2].draft.reason, "consent-withdrawn")
        try await fixture.assertLogVerifies()
    }

    func testASubjectLeavingTheServiceWithdrawsEveryConsentAndIsErased() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let subjectID = try fixture.referral(referral.id).subjectID
        let dv = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        try await fixture.deliver(dv.id)
        let second = try await fixture.exchange.recordConsent(try InProcessExchange.consent(for: referral.id), by: InProcessExchange.police)
        let head = fixture.headSeq

        let answer = try await fixture.exchange.withdrawSubject(subjectID, by: InProcessExchange.police)
        let subject = try fixture.subject(subjectID)
        XCTAssertEqual(subject.erasedAt, fixture.clock.now)
        XCTAssertNotNil(subject.withdrawalReceipt)
        XCTAssertNil(fixture.tables.subjectKeys[subjectID])
        XCTAssertTrue(fixture.consents(subjectID: subjectID).allSatisfy { $0.withdrawnAt != nil && $0.sealedDetails == nil })
        XCTAssertTrue(fixture.consents(subjectID: subjectID).allSatisfy { $0.withdrawalReceipt != nil })
        XCTAssertEqual(try fixture.disclosure(referralID: referral.id, recipient: "dv-support").reason, "consent-withdrawn", "told to erase what stood on a withdrawn consent")
        XCTAssertEqual(try fixture.disclosure(referralID: referral.id, recipient: "victim-support").state, .cancelled)
        XCTAssertEqual(fixture.tables.outbox.values.map(\.record.kind), [.erasureNotice], "only the erasure notice waits")
        XCTAssertFalse(fixture.tables.subjectIndex.values.contains { $0.subjectID == subjectID }, "the subject can no longer be found")

        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [
            .consentWithdrawn, .noticeQueued, .consentWithdrawn, .disclosureCancelled, .subjectWithdrew, .subjectErased,
        ])
        XCTAssertEqual(Set(entries.filter { $0.draft.event == .consentWithdrawn }.compactMap(\.draft.consentID)).count, 2)
        XCTAssertTrue(entries.filter { $0.draft.event == .consentWithdrawn }.allSatisfy { $0.draft.reason == "subject-withdrew" })
        XCTAssertEqual(entries[3].draft.consentID, second.id)
        XCTAssertEqual(entries[5].draft.reason, "subject-withdrew")
        XCTAssertNil(entries[5].draft.consentID)

        let again = try await fixture.exchange.withdrawSubject(subjectID, by: InProcessExchange.police)
        XCTAssertTrue(again.isRepeat)
        XCTAssertEqual(again.firstAnswer, answer.json, "a repeat answers the first answer")
        XCTAssertEqual(fixture.headSeq, head + Int64(entries.count), "a repeat changes nothing")
        try await fixture.assertLogVerifies()
    }
}
