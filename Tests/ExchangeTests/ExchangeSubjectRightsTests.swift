import Crypto
import Exchange
import JSON
import TestSupport
import XCTest

/// Erasure, rectification, restriction and retention, in process over the in-memory store: the
/// records and log entries each leaves.
final class ExchangeSubjectRightsTests: XCTestCase {
    /// A referral whose dv-support disclosure was delivered (victim-support awaits consent).
    private func deliveredReferral(_ fixture: InProcessExchange) async throws -> (referralID: String, subjectID: String, dv: DisclosureRecord) {
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let dv = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        try await fixture.deliver(dv.id)
        return (referral.id, try fixture.referral(referral.id).subjectID, dv)
    }

    func testErasureShredsTheSubjectAndTellsTheRecipientsThatReceivedData() async throws {
        let fixture = try InProcessExchange()
        let (referralID, subjectID, dv) = try await deliveredReferral(fixture)
        let head = fixture.headSeq
        fixture.clock.advance(by: .seconds(600))
        _ = try await fixture.exchange.eraseSubject(
            subjectID, justification: "The person asked for erasure in a letter to the data protection officer.", by: InProcessExchange.admin
        )

        XCTAssertEqual(try fixture.subject(subjectID).erasedAt, fixture.clock.now)
        XCTAssertNil(fixture.tables.subjectKeys[subjectID], "the key is deleted")
        XCTAssertNil(try fixture.referral(referralID).sealedBody, "the body is deleted")
        XCTAssertTrue(fixture.consents(subjectID: subjectID).allSatisfy { $0.sealedDetails == nil }, "consent details are deleted")
        XCTAssertFalse(fixture.tables.freeTexts.values.contains { $0.subjectID == subjectID }, "free text is deleted")
        XCTAssertFalse(fixture.tables.subjectIndex.values.contains { $0.subjectID == subjectID }, "blind-index entries are deleted")
        let told = try fixture.disclosure(referralID: referralID, recipient: "dv-support")
        XCTAssertEqual(told.state, .delivered)
        XCTAssertEqual(told.reason, "subject-erased")
        let notice = try XCTUnwrap(fixture.tables.outbox.values.map(\.record).first { $0.kind == .erasureNotice })
        XCTAssertEqual(notice.recipientID, "dv-support")
        XCTAssertEqual(notice.disclosureID, dv.id)
        let waiting = try fixture.disclosure(referralID: referralID, recipient: "victim-support")
        XCTAssertEqual(waiting.state, .cancelled)
        XCTAssertEqual(waiting.reason, "subject-erased")

        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.noticeQueued, .disclosureCancelled, .subjectErased])
        XCTAssertEqual(entries[0].draft.disclosureID, dv.id)
        XCTAssertEqual(entries[0].draft.reason, "subject-erased")
        XCTAssertEqual(entries[1].draft.disclosureID, waiting.id)
        let erased = entries[2]
        XCTAssertEqual(erased.draft.actor, "dpo")
        XCTAssertEqual(erased.draft.subjectID, subjectID)
        XCTAssertEqual(erased.draft.reason, "erasure-request")
        let digest = try XCTUnwrap(erased.draft.justificationDigest, "the reason in words is committed to")
        XCTAssertNil(fixture.tables.freeTexts[digest], "and goes with the subject")
        fixture.assertLogHoldsNone(of: ["letter to the data protection officer"])

        let again = try await fixture.exchange.eraseSubject(subjectID, by: InProcessExchange.admin)
        XCTAssertTrue(again.alreadyErased)
        XCTAssertEqual(fixture.headSeq, head + 3, "erasing again sends and logs nothing")

        let export = try await fixture.exchange.exportSubject(subjectID, by: InProcessExchange.admin)
        XCTAssertEqual(export.referrals.first?.document, nil, "nothing of the document can be read after erasure")
        XCTAssertEqual(fixture.log.last?.draft.event, .subjectExported)
        try await fixture.assertLogVerifies()
    }

    func testRectificationReSealsTheReferralAndSendsTheCorrectionToWhoReceivedIt() async throws {
        let fixture = try InProcessExchange()
        let (referralID, subjectID, dv) = try await deliveredReferral(fixture)
        let head = fixture.headSeq
        let patch: JSONValue = ["subject": ["contact": ["phone": ["number": "+44 7700 900999"]]]]
        _ = try await fixture.exchange.rectifySubject(subjectID, patch: patch.serialized(), by: InProcessExchange.admin)

        XCTAssertEqual(try fixture.document(ofReferral: referralID)["subject"]?["contact"]?["phone"]?["number"], "+44 7700 900999")
        let notice = try XCTUnwrap(fixture.tables.outbox.values.map(\.record).first { $0.kind == .rectificationNotice })
        XCTAssertEqual(notice.recipientID, "dv-support")
        XCTAssertEqual(notice.disclosureID, dv.id)
        XCTAssertFalse(String(decoding: notice.payload ?? [], as: UTF8.self).contains("900999"), "the corrected values are sealed")
        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.noticeQueued, .subjectRectified])
        XCTAssertEqual(entries[0].draft.recipientID, "dv-support")
        XCTAssertEqual(entries[0].draft.reason, "rectification")
        XCTAssertEqual(entries[0].draft.pointers, ["/subject/contact/phone/number"])
        XCTAssertEqual(entries[1].draft.pointers, ["/subject/contact/phone/number"])
        XCTAssertEqual(entries[1].draft.actor, "dpo")
        fixture.assertLogHoldsNone(of: ["900999"])

        do {
            _ = try await fixture.exchange.rectifySubject(subjectID, patch: patch.serialized(), by: InProcessExchange.admin)
            XCTFail("a patch that changes nothing was accepted")
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .conflict)
        }
        XCTAssertEqual(fixture.headSeq, head + 2, "a refused rectification leaves nothing")
        try await fixture.assertLogVerifies()
    }

    func testRestrictionWithholdsWhatWaitsAndLiftingItDecidesAfresh() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let subjectID = try fixture.referral(referral.id).subjectID
        let dv = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        var head = fixture.headSeq

        _ = try await fixture.exchange.restrictSubject(subjectID, true, by: InProcessExchange.admin)
        XCTAssertTrue(try fixture.subject(subjectID).restricted)
        for recipient in ["dv-support", "victim-support"] {
            let withheld = try fixture.disclosure(referralID: referral.id, recipient: recipient)
            XCTAssertEqual(withheld.state, .refused, recipient)
            XCTAssertEqual(withheld.reason, "restricted", recipient)
        }
        XCTAssertTrue(fixture.tables.outbox.isEmpty, "nothing waits to go while restricted")
        var entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.subjectRestricted, .disclosureWithheld, .disclosureWithheld])
        XCTAssertEqual(entries.dropFirst().map(\.draft.reason), ["restricted", "restricted"])
        XCTAssertEqual(entries.dropFirst().map(\.draft.actor), ["dpo", "dpo"])

        // A restricted subject is kept, not erased, when its last consent goes.
        head = fixture.headSeq
        _ = try await fixture.exchange.restrictSubject(subjectID, false, by: InProcessExchange.admin)
        XCTAssertFalse(try fixture.subject(subjectID).restricted)
        let released = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        XCTAssertEqual(released.state, .queued, "the disclosure consent still covers goes again")
        XCTAssertEqual(released.consentID, dv.consentID)
        XCTAssertEqual(released.lawfulBasis, .consent)
        XCTAssertEqual(fixture.tables.outbox[dv.id]?.record.recipientID, "dv-support")
        let waiting = try fixture.disclosure(referralID: referral.id, recipient: "victim-support")
        XCTAssertEqual(waiting.state, .awaitingConsent, "one no consent covers waits for consent again")
        entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.subjectUnrestricted, .disclosureAuthorised, .disclosureWithheld])
        XCTAssertEqual(entries[1].draft.consentID, dv.consentID)
        XCTAssertEqual(entries[2].draft.reason, "awaiting-consent")

        let unchanged = try await fixture.exchange.restrictSubject(subjectID, false, by: InProcessExchange.admin)
        XCTAssertEqual(unchanged.changed, [])
        XCTAssertEqual(fixture.headSeq, head + 3, "lifting a restriction that is not there logs nothing")
        try await fixture.assertLogVerifies()
    }

    func testRetentionErasesSubjectsPastTheirLastReferralAndPrunesTheLogAtASignedCheckpoint() async throws {
        let fixture = try InProcessExchange()
        let old = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let oldSubject = try fixture.referral(old.id).subjectID
        fixture.clock.advance(by: .seconds(31 * 86_400))
        let recent = try await fixture.exchange.submitReferral(
            try InProcessExchange.domesticAbuseReferral(referenceID: "DEV-2026-0099"), by: InProcessExchange.police
        )
        let recentSubject = try fixture.referral(recent.id).subjectID
        let head = fixture.headSeq

        let report = try await fixture.exchange.runRetention(RetentionPolicy(referrals: .seconds(30 * 86_400)))
        XCTAssertEqual(report.subjectsErased, 1)
        XCTAssertNotNil(try fixture.subject(oldSubject).erasedAt)
        XCTAssertNil(fixture.tables.subjectKeys[oldSubject])
        XCTAssertNil(try fixture.subject(recentSubject).erasedAt, "a subject referred within the retention is kept")
        XCTAssertNotNil(try fixture.referral(recent.id).sealedBody)
        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.disclosureCancelled, .disclosureCancelled, .subjectErased])
        XCTAssertTrue(entries.allSatisfy { $0.draft.actor == "system" && $0.draft.subjectID == oldSubject })
        XCTAssertEqual(entries.last?.draft.reason, "retention")

        // A checkpoint signed now at the head, and an entry after it; two days later the log is
        // pruned up to that checkpoint (kept for a day), and consent details older than a day go.
        let checkpointSeq = fixture.headSeq
        let signer = try Ed25519PrivateKey()
        let hash = try XCTUnwrap(fixture.tables.log.last?.hash)
        let reopened = InMemoryStore(state: fixture.state, clock: fixture.clock.reading)
        try await reopened.write { txn in try txn.insertCheckpoint(try Checkpoint(seq: checkpointSeq, hash: hash, time: txn.now, key: signer)) }
        _ = try await fixture.exchange.referralStatus(recent.id, by: InProcessExchange.police)
        fixture.clock.advance(by: .seconds(2 * 86_400))
        let pruning = try await fixture.exchange.runRetention(RetentionPolicy(consents: .seconds(86_400), log: .seconds(86_400)))
        XCTAssertEqual(pruning.logPrunedThrough, checkpointSeq)
        XCTAssertEqual(pruning.consentDetailsErased, 1, "the recent subject's consent details (the old one's went with it)")
        XCTAssertTrue(fixture.consents(subjectID: recentSubject).allSatisfy { $0.sealedDetails == nil })
        XCTAssertNotNil(fixture.tables.subjectKeys[recentSubject], "erasing consent details leaves the subject")
        XCTAssertEqual(fixture.tables.log.first?.seq, checkpointSeq + 1)
        XCTAssertEqual(fixture.tables.logAnchor?.seq, checkpointSeq)
        XCTAssertEqual(fixture.tables.logAnchor?.hash, hash)
        let status = try await fixture.exchange.retentionStatus(RetentionPolicy(log: .seconds(86_400)))
        XCTAssertEqual(status.logAnchor?.seq, checkpointSeq)
        try await fixture.assertLogVerifies(logRetention: .seconds(86_400))
    }
}
