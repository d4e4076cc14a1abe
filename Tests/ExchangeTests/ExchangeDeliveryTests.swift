import Exchange
import JSON
import TestSupport
import XCTest

/// What delivery records, in process over the in-memory store: pull mailboxes, and attempts that
/// fail.
final class ExchangeDeliveryTests: XCTestCase {
    func testAMailboxItemIsDeliveredWhenFetchedAndAcknowledgedOnce() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(
            try InProcessExchange.example("referral-2-hate-crime-witness"), by: InProcessExchange.police
        )
        let translation = try fixture.disclosure(referralID: referral.id, recipient: "translation")
        XCTAssertEqual(translation.state, .queued)
        XCTAssertEqual(fixture.tables.outbox[translation.id]?.record.mode, .pull)

        let page = try await fixture.exchange.mailbox(for: InProcessExchange.sink, after: nil, limit: 10)
        XCTAssertEqual(page.items.map(\.id), [translation.id])
        let others = try await fixture.exchange.mailbox(for: InProcessExchange.police, after: nil, limit: 10)
        XCTAssertEqual(others.items, [], "another partner's mailbox is empty")

        var head = fixture.headSeq
        let body = try JSONValue.parse(try await fixture.exchange.mailboxItem(translation.id, for: InProcessExchange.sink))
        XCTAssertEqual(body["disclosureId"]?.stringValue, translation.id)
        XCTAssertNil(body["data"]?["offence"], "only the recipient's fields")
        XCTAssertEqual(try fixture.disclosure(referralID: referral.id, recipient: "translation").state, .delivered)
        XCTAssertNotNil(fixture.tables.outbox[translation.id], "the item stays until acknowledged")
        var entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.disclosureDelivered])
        XCTAssertEqual(entries.first?.draft.actor, "sink")
        XCTAssertEqual(entries.first?.draft.details?["via"], "mailbox")

        head = fixture.headSeq
        fixture.clock.advance(by: .seconds(5))
        _ = try await fixture.exchange.acknowledge(translation.id, by: InProcessExchange.sink)
        XCTAssertNil(fixture.tables.outbox[translation.id])
        XCTAssertEqual(fixture.tables.acknowledgements[translation.id]?.at, fixture.clock.now)
        XCTAssertEqual(fixture.tables.acknowledgements[translation.id]?.recipientID, "translation")
        entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [], "delivered was logged at the fetch, not again")

        fixture.clock.advance(by: .seconds(5))
        let again = try await fixture.exchange.acknowledge(translation.id, by: InProcessExchange.sink)
        XCTAssertEqual(again.acknowledgedAt, fixture.tables.acknowledgements[translation.id]?.at)
        try await fixture.assertLogVerifies()
    }

    func testAFailedAttemptIsRecordedAndAWithdrawalThenTellsTheRecipientItMayHaveIt() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let dv = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        let item = try XCTUnwrap(fixture.tables.outbox[dv.id]?.record)
        var head = fixture.headSeq

        let retryAt = Timestamp(milliseconds: fixture.clock.now.milliseconds + 30_000)
        try await fixture.exchange.recordDelivery(item, decision: .retry(at: retryAt, reason: "HTTP 503"))
        let retrying = try XCTUnwrap(fixture.tables.outbox[dv.id]?.record)
        XCTAssertEqual(retrying.attempts, 1)
        XCTAssertEqual(retrying.nextAttemptAt, retryAt)
        XCTAssertEqual(retrying.lastError, "HTTP 503")
        XCTAssertEqual(fixture.headSeq, head, "a retry is not a decision: nothing logged")

        try await fixture.exchange.recordDelivery(retrying, decision: .fail(reason: "HTTP 400"))
        let failed = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        XCTAssertEqual(failed.state, .failed)
        XCTAssertEqual(failed.reason, "HTTP 400")
        XCTAssertEqual(fixture.tables.outbox[dv.id]?.record.state, .failed)
        XCTAssertEqual(fixture.tables.outbox[dv.id]?.record.attempts, 2)
        XCTAssertEqual(fixture.entries(after: head).map(\.draft.event), [.disclosureFailed])
        XCTAssertEqual(fixture.entries(after: head).first?.draft.reason, "HTTP 400")

        head = fixture.headSeq
        _ = try await fixture.exchange.withdrawConsent(try XCTUnwrap(dv.consentID), by: InProcessExchange.police)
        let cancelled = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        XCTAssertEqual(cancelled.state, .cancelled)
        XCTAssertEqual(cancelled.reason, "consent-withdrawn")
        let notice = try XCTUnwrap(fixture.tables.outbox.values.map(\.record).first { $0.kind == .erasureNotice })
        XCTAssertEqual(notice.recipientID, "dv-support")
        let entries = fixture.entries(after: head)
        XCTAssertEqual(entries.map(\.draft.event), [.consentWithdrawn, .disclosureCancelled, .noticeQueued, .disclosureCancelled, .subjectErased])
        XCTAssertEqual(entries[1].draft.disclosureID, dv.id)
        XCTAssertEqual(entries[3].draft.recipientID, "victim-support", "what waited is cancelled with the erasure")
        XCTAssertEqual(entries[2].draft.details?["possiblyReceived"], true, "an attempt was made: it may have arrived")
        try await fixture.assertLogVerifies()
    }

    /// The lease of a first attempt ends before its outcome is recorded (a stalled writer), and
    /// the same process claims the item again for a second attempt. Recording the first (a retry
    /// due at once) must leave the second's claim in place: otherwise the item is claimed a third
    /// time while the second attempt is still under way.
    func testRecordingAnAttemptWhoseLeaseEndedLeavesTheNextClaimInPlace() async throws {
        let fixture = try InProcessExchange()
        let referral = try await fixture.exchange.submitReferral(try InProcessExchange.domesticAbuseReferral(), by: InProcessExchange.police)
        let dv = try fixture.disclosure(referralID: referral.id, recipient: "dv-support")
        XCTAssertEqual(fixture.tables.outbox[dv.id]?.record.mode, .push)

        let first = try await fixture.exchange.claimDueOutbox(["dv-support": 10], claimant: "node", lease: .seconds(30))
        XCTAssertEqual(first.map(\.id), [dv.id])
        fixture.clock.advance(by: .seconds(31))
        let second = try await fixture.exchange.claimDueOutbox(["dv-support": 10], claimant: "node", lease: .seconds(30))
        XCTAssertEqual(second.map(\.id), [dv.id], "the first lease ended: the item is claimed again")

        try await fixture.exchange.recordDelivery(try XCTUnwrap(first.first), decision: .retry(at: fixture.clock.now, reason: "HTTP 503"))
        let third = try await fixture.exchange.claimDueOutbox(["dv-support": 10], claimant: "node", lease: .seconds(30))
        XCTAssertEqual(third.map(\.id), [], "the second attempt still holds the item")

        try await fixture.exchange.recordDelivery(try XCTUnwrap(second.first), decision: .retry(at: fixture.clock.now, reason: "HTTP 503"))
        let fourth = try await fixture.exchange.claimDueOutbox(["dv-support": 10], claimant: "node", lease: .seconds(30))
        XCTAssertEqual(fourth.map(\.id), [dv.id], "recorded: the item is anyone's again")
    }
}
