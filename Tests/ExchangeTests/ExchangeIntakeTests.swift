import Crypto
import Exchange
import JSON
import TestSupport
import XCTest

/// Intake and overrides, in process over the in-memory store: the records and log entries each
/// operation leaves.
final class ExchangeIntakeTests: XCTestCase {
    func testIntakeSealsTheReferralAndDecidesEachDisclosureOnItsBasis() async throws {
        let fixture = try InProcessExchange()
        let body = try InProcessExchange.domesticAbuseReferral()
        let answer = try await fixture.exchange.submitReferral(body, by: InProcessExchange.police)

        let referral = try fixture.referral(answer.id)
        XCTAssertEqual(referral.partnerID, "police")
        XCTAssertEqual(referral.schemaID, "urn:refex:schema:referral:1")
        XCTAssertEqual(referral.receivedAt, fixture.clock.now)
        XCTAssertEqual(try fixture.document(ofReferral: answer.id), try JSONValue.parse(body), "the sealed body opens to the document posted")
        XCTAssertFalse(String(decoding: referral.sealedBody ?? [], as: UTF8.self).contains("Alex"), "the body is stored sealed")
        XCTAssertEqual(try JSONValue.parse(referral.receipt), answer.json, "the first answer is kept for a resubmission")
        let subject = try fixture.subject(referral.subjectID)
        XCTAssertFalse(subject.restricted)
        XCTAssertNil(subject.erasedAt)
        XCTAssertNotNil(fixture.tables.subjectKeys[subject.id])
        XCTAssertFalse(fixture.tables.subjectIndex.isEmpty, "the subject is findable by blind index")

        let consent = try XCTUnwrap(fixture.consents(subjectID: subject.id).first)
        XCTAssertEqual(consent.purposes, ["domestic-abuse"])
        XCTAssertEqual(consent.method, "verbal")
        XCTAssertEqual(consent.referralID, answer.id)
        XCTAssertNotNil(consent.sealedDetails, "who obtained it and the notes are kept sealed")

        let dv = try fixture.disclosure(referralID: answer.id, recipient: "dv-support")
        XCTAssertEqual(dv.state, .queued)
        XCTAssertEqual(dv.service, "domestic-abuse")
        XCTAssertEqual(dv.lawfulBasis, .consent)
        XCTAssertEqual(dv.consentID, consent.id)
        XCTAssertEqual(dv.categories, ["health"])
        XCTAssertTrue(dv.pointers.contains("/subject/health"))
        XCTAssertFalse(dv.pointers.contains { $0.hasPrefix("/referringOfficer") }, "only the recipient's fields")
        XCTAssertFalse(dv.pointers.contains { $0.hasPrefix("/subject/contact/email") }, "a contact not safe to use is not disclosed")
        let vs = try fixture.disclosure(referralID: answer.id, recipient: "victim-support")
        XCTAssertEqual(vs.state, .awaitingConsent)
        XCTAssertEqual(vs.reason, "awaiting-consent")
        XCTAssertNil(vs.lawfulBasis)
        XCTAssertNil(vs.consentID)
        XCTAssertFalse(vs.pointers.contains("/subject/health"), "a special category the recipient may not receive")

        let outbox = fixture.tables.outbox.values.map(\.record)
        XCTAssertEqual(outbox.map(\.id), [dv.id], "only the authorised disclosure is queued")
        XCTAssertEqual(outbox.first?.mode, .push)
        XCTAssertEqual(outbox.first?.recipientID, "dv-support")

        let log = fixture.log
        XCTAssertEqual(log.map(\.draft.event), [.referralReceived, .consentRecorded, .disclosureAuthorised, .disclosureWithheld])
        XCTAssertEqual(log[0].draft.referralID, answer.id)
        XCTAssertEqual(log[0].draft.subjectID, subject.id)
        XCTAssertEqual(log[1].draft.consentID, consent.id)
        XCTAssertEqual(log[2].draft.disclosureID, dv.id)
        XCTAssertEqual(log[2].draft.lawfulBasis, .consent)
        XCTAssertEqual(log[2].draft.consentID, consent.id)
        XCTAssertEqual(log[2].draft.recipientID, "dv-support")
        XCTAssertEqual(log[2].draft.pointers, dv.pointers)
        XCTAssertEqual(log[2].draft.categories, ["health"])
        XCTAssertEqual(log[3].draft.recipientID, "victim-support")
        XCTAssertEqual(log[3].draft.reason, "awaiting-consent")
        XCTAssertEqual(log[3].draft.actor, "police")
        XCTAssertEqual(Set(log.map(\.time)), [fixture.clock.now], "one commit, one time")
        fixture.assertLogHoldsNone(of: ["Alex", "Example", "7700 900123", "1990-04-12", "PC Sam Sample"])
        try await fixture.assertLogVerifies()
    }

    func testAResubmissionIsAnsweredAsTheFirstAndADifferentBodyIsAConflict() async throws {
        let fixture = try InProcessExchange()
        let first = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let head = fixture.headSeq
        let again = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        XCTAssertTrue(again.isRepeat)
        XCTAssertEqual(again.id, first.id)
        XCTAssertEqual(again.json, first.json)
        XCTAssertEqual(fixture.tables.referrals.count, 1)
        XCTAssertEqual(fixture.headSeq, head, "a repeat is not logged again")

        let changed = try InProcessExchange.example("referral-1-domestic-abuse") { $0["riskOfHarm"] = "medium" }
        do {
            _ = try await fixture.exchange.submitReferral(changed, by: InProcessExchange.police)
            XCTFail("a different body under the same referenceId was accepted")
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .conflict)
        }
        XCTAssertEqual(fixture.tables.referrals.count, 1)
        XCTAssertEqual(fixture.tables.subjects.count, 1, "the refused write left no subject")
        XCTAssertEqual(fixture.headSeq, head)

        // The same referenceId from another partner is another referral.
        let other = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.officer)
        XCTAssertNotEqual(other.id, first.id)
        XCTAssertFalse(other.isRepeat)
    }

    func testAServiceNoRecipientProvidesIsRefusedBySystem() async throws {
        let fixture = try InProcessExchange(recipients: InProcessExchange.recipients.filter { $0.id != "victim-support" })
        let answer = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let refused = try XCTUnwrap(fixture.disclosures(referralID: answer.id).first { $0.service == "general-victim-support" })
        XCTAssertNil(refused.recipientID)
        XCTAssertEqual(refused.state, .refused)
        XCTAssertEqual(refused.reason, "no-recipient")
        XCTAssertEqual(refused.actor, "system")
        let withheld = try XCTUnwrap(fixture.log.last)
        XCTAssertEqual(withheld.draft.event, .disclosureWithheld)
        XCTAssertEqual(withheld.draft.actor, "system")
        XCTAssertEqual(withheld.draft.reason, "no-recipient")
        XCTAssertNil(withheld.draft.recipientID)
    }

    func testReadingAReferralsStatusIsLoggedAndAnotherPartnersIsNotFound() async throws {
        let fixture = try InProcessExchange()
        let answer = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let head = fixture.headSeq
        let status = try await fixture.exchange.referralStatus(answer.id, by: InProcessExchange.police)
        XCTAssertEqual(status.status, "in-progress")
        XCTAssertEqual(fixture.entries(after: head).map(\.draft.event), [.referralViewed])
        XCTAssertEqual(fixture.entries(after: head).first?.draft.referralID, answer.id)
        do {
            _ = try await fixture.exchange.referralStatus(answer.id, by: InProcessExchange.officer)
            XCTFail("another partner read the referral")
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .notFound)
        }
        XCTAssertEqual(fixture.headSeq, head + 1, "a refused reading is not logged")
    }

    func testAnOverrideAuthorisesOnALawfulBasisAndCommitsToItsJustification() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(
            try InProcessExchange.domesticAbuseReferral(withConsent: false), by: InProcessExchange.police
        )
        XCTAssertEqual(try fixture.disclosure(referralID: referral.id, recipient: "dv-support").state, .awaitingConsent)
        let head = fixture.headSeq
        fixture.clock.advance(by: .seconds(60))
        let justification = "High risk of serious harm assessed at MARAC; the subject cannot be reached to give consent."
        let answer = try await fixture.exchange.authoriseOverride(
            referralID: referral.id, try InProcessExchange.example("override-1"), by: InProcessExchange.officer
        )

        let disclosure = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        XCTAssertEqual(answer.summary.id, disclosure.id, "the waiting disclosure is the one authorised")
        XCTAssertEqual(disclosure.state, .queued)
        XCTAssertEqual(disclosure.lawfulBasis, .vitalInterests)
        XCTAssertNil(disclosure.consentID)
        XCTAssertNil(disclosure.reason)
        XCTAssertEqual(disclosure.actor, "duty-officer")
        XCTAssertEqual(disclosure.updatedAt, fixture.clock.now)
        let digest = try XCTUnwrap(disclosure.justificationDigest)
        let stored = try XCTUnwrap(fixture.tables.freeTexts[digest], "the justification is kept sealed under its commitment")
        XCTAssertEqual(stored.subjectID, disclosure.subjectID)
        XCTAssertFalse(String(decoding: stored.sealed, as: UTF8.self).contains("MARAC"))
        XCTAssertEqual(fixture.tables.outbox[disclosure.id]?.record.recipientID, "dv-support")

        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.disclosureAuthorised])
        XCTAssertEqual(entries.first?.draft.actor, "duty-officer")
        XCTAssertEqual(entries.first?.draft.lawfulBasis, .vitalInterests)
        XCTAssertEqual(entries.first?.draft.justificationDigest, digest)
        XCTAssertNil(entries.first?.draft.consentID)
        fixture.assertLogHoldsNone(of: [justification, "MARAC"])

        // The victim-support disclosure waits on: an override is for the recipient it names.
        XCTAssertEqual(try fixture.disclosure(referralID: referral.id, recipient: "victim-support").state, .awaitingConsent)
        do {
            _ = try await fixture.exchange.authoriseOverride(
                referralID: referral.id, try InProcessExchange.example("override-1"), by: InProcessExchange.officer
            )
            XCTFail("the same override was authorised twice")
        } catch let error as ExchangeError {
            XCTAssertEqual(error.kind, .conflict)
        }
        XCTAssertEqual(fixture.headSeq, head + 1)
        try await fixture.assertLogVerifies()
    }
}
