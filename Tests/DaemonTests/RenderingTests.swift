import Daemon
import JSON
import XCTest
@testable import Exchange

/// The API's JSON for each typed answer, member for member and in order: what partners and
/// admins received before the answers were typed, so that typing them changed no byte.
final class RenderingTests: XCTestCase {
    private let at = Timestamp(milliseconds: 1_764_000_000_000)  // 2025-11-24T16:00:00.000Z
    private let later = Timestamp(milliseconds: 1_764_000_001_234)  // 2025-11-24T16:00:01.234Z

    private func text(_ value: JSONValue) -> String { value.serializedString() }

    private func record(state: DisclosureState = .queued, basis: LawfulBasis? = .consent, reason: String? = nil) -> DisclosureRecord {
        DisclosureRecord(
            id: "d1", referralID: "r1", subjectID: "s1", recipientID: "dv", service: "domestic-abuse", state: state, lawfulBasis: basis,
            consentID: basis == .consent ? "c1" : nil, justificationDigest: nil, actor: "police", pointers: ["/offence/category"],
            categories: [], reason: reason, createdAt: at, updatedAt: later
        )
    }

    func testADisclosureNamesItsAuthoriserOnlyWhenItHasABasis() {
        XCTAssertEqual(
            text(Rendering.json(DisclosureDetail(record(), justification: nil))),
            #"{"id":"d1","recipient":"dv","service":"domestic-abuse","state":"queued","lawfulBasis":"consent","consentId":"c1","authorisedBy":"police","pointers":["/offence/category"],"categories":[],"updatedAt":"2025-11-24T16:00:01.234Z"}"#
        )
        XCTAssertEqual(
            text(Rendering.json(DisclosureDetail(record(state: .awaitingConsent, basis: nil, reason: "no-consent"), justification: nil))),
            #"{"id":"d1","recipient":"dv","service":"domestic-abuse","state":"awaiting-consent","reason":"no-consent","lawfulBasis":null,"consentId":null,"authorisedBy":null,"requestedBy":"police","pointers":["/offence/category"],"categories":[],"updatedAt":"2025-11-24T16:00:01.234Z"}"#
        )
        XCTAssertEqual(
            text(Rendering.json(DisclosureDetail(record(basis: .vitalInterests), justification: "Risk to life reported by the officer."))),
            #"{"id":"d1","recipient":"dv","service":"domestic-abuse","state":"queued","lawfulBasis":"vital-interests","consentId":null,"justification":"Risk to life reported by the officer.","authorisedBy":"police","pointers":["/offence/category"],"categories":[],"updatedAt":"2025-11-24T16:00:01.234Z"}"#
        )
    }

    func testAReferralViewHasErasedAtOnlyOnceErased() {
        var view = ReferralView(
            id: "r1", status: "in-progress", schemaID: "urn:refex:schema:referral:1", subjectID: "s1", receivedAt: at, disclosures: [],
            erasedAt: nil
        )
        XCTAssertEqual(
            text(Rendering.json(view)),
            #"{"id":"r1","status":"in-progress","schema":"urn:refex:schema:referral:1","subjectId":"s1","receivedAt":"2025-11-24T16:00:00.000Z","disclosures":[]}"#
        )
        view.erasedAt = later
        XCTAssertTrue(text(Rendering.json(view)).hasSuffix(#""disclosures":[],"erasedAt":"2025-11-24T16:00:01.234Z"}"#))
    }

    func testStoredReceiptsRenderAsStoredAndARepeatAsItsFirstAnswer() {
        var receipt = ReferralReceipt(
            id: "r1", status: "awaiting-consent", subjectID: "s1", receivedAt: at,
            disclosures: [DisclosureSummary(record(state: .awaitingConsent, basis: nil, reason: "no-consent"))]
        )
        let expected = #"{"id":"r1","status":"awaiting-consent","subjectId":"s1","receivedAt":"2025-11-24T16:00:00.000Z","disclosures":[{"id":"d1","recipient":"dv","service":"domestic-abuse","state":"awaiting-consent","reason":"no-consent"}]}"#
        XCTAssertEqual(text(Rendering.json(receipt)), expected)
        XCTAssertEqual(text(receipt.json), expected, "stored as rendered")
        receipt.firstAnswer = ["status": "closed", "id": "r1"]
        XCTAssertEqual(text(Rendering.json(receipt)), #"{"status":"closed","id":"r1"}"#, "a repeat answers with what was stored, unchanged")

        let consent = ConsentReceipt(id: "c1", referralID: "r1", subjectID: "s1", recordedAt: at, released: [DisclosureSummary(record())])
        XCTAssertEqual(
            text(Rendering.json(consent)),
            #"{"id":"c1","referralId":"r1","subjectId":"s1","recordedAt":"2025-11-24T16:00:00.000Z","released":[{"id":"d1","recipient":"dv","service":"domestic-abuse","state":"queued"}]}"#
        )
    }

    func testAConsentWithdrawalHasTheShapeOfWhatItDid() {
        let notice = NoticeSummary(id: "n1", disclosureID: "d0", recipientID: "gvs", reason: "consent-withdrawn")
        let kept = ConsentWithdrawal.Kept(disclosureID: "d2", recipientID: "dv", service: "domestic-abuse", consentID: "c2")
        let retained = ConsentWithdrawal(
            consentID: "c1", subjectID: "s1", withdrawnAt: at, erased: false, erasedAt: nil,
            retainedBecause: [.restriction, .consent(id: "c2", purposes: ["domestic-abuse"]),
                              .disclosure(basis: .vitalInterests, disclosureID: "d3", recipientID: nil, service: "fraud")],
            cancelled: [DisclosureSummary(record(state: .cancelled, reason: "consent-withdrawn"))], notices: [notice],
            keptUnderAnotherConsent: [kept]
        )
        XCTAssertEqual(
            text(Rendering.json(retained)),
            #"{"id":"c1","subjectId":"s1","withdrawnAt":"2025-11-24T16:00:00.000Z","erased":false,"retainedBecause":[{"basis":"restriction","article":"UK GDPR Art. 18"},{"basis":"consent","consentId":"c2","purposes":["domestic-abuse"]},{"basis":"vital-interests","disclosureId":"d3","recipient":null,"service":"fraud"}],"cancelled":[{"id":"d1","recipient":"dv","service":"domestic-abuse","state":"cancelled","reason":"consent-withdrawn"}],"erasureNotices":["gvs"],"notices":[{"id":"n1","disclosureId":"d0","recipient":"gvs","reason":"consent-withdrawn"}],"keptUnderAnotherConsent":[{"disclosureId":"d2","recipient":"dv","service":"domestic-abuse","consentId":"c2"}]}"#
        )
        let erased = ConsentWithdrawal(
            consentID: "c1", subjectID: "s1", withdrawnAt: at, erased: true, erasedAt: at, cancelled: [], notices: [], keptUnderAnotherConsent: []
        )
        XCTAssertEqual(
            text(Rendering.json(erased)),
            #"{"id":"c1","subjectId":"s1","withdrawnAt":"2025-11-24T16:00:00.000Z","erased":true,"erasedAt":"2025-11-24T16:00:00.000Z","cancelled":[],"erasureNotices":[],"notices":[],"keptUnderAnotherConsent":[]}"#
        )
        let withSubject = ConsentWithdrawal(
            consentID: "c1", subjectID: "s1", withdrawnAt: at, withSubject: true, erased: true, erasedAt: at, cancelled: [], notices: [notice],
            keptUnderAnotherConsent: nil
        )
        XCTAssertEqual(
            text(Rendering.json(withSubject)),
            #"{"id":"c1","subjectId":"s1","withdrawnAt":"2025-11-24T16:00:00.000Z","withSubject":true,"erased":true,"erasedAt":"2025-11-24T16:00:00.000Z","cancelled":[],"erasureNotices":["gvs"],"notices":[{"id":"n1","disclosureId":"d0","recipient":"gvs","reason":"consent-withdrawn"}]}"#
        )
        // Read back from what it stored, it is the same value.
        XCTAssertEqual(ConsentWithdrawal(stored: retained.json, known: erased), { var copy = retained; copy.firstAnswer = retained.json; return copy }())

        let leaving = SubjectWithdrawal(
            subjectID: "s1", withdrawnAt: at, consentsWithdrawn: ["c1"], cancelled: [], notices: [notice], erasedAt: at
        )
        XCTAssertEqual(
            text(Rendering.json(leaving)),
            #"{"subjectId":"s1","withdrawnAt":"2025-11-24T16:00:00.000Z","consentsWithdrawn":["c1"],"cancelled":[],"erasureNotices":["gvs"],"notices":[{"id":"n1","disclosureId":"d0","recipient":"gvs","reason":"consent-withdrawn"}],"erased":true,"erasedAt":"2025-11-24T16:00:00.000Z"}"#
        )
    }

    func testAConsentViewShowsDetailsOnlyWhenAskedAndSaysWhenTheyAreErased() {
        let consent = ConsentRecord(
            id: "c1", subjectID: "s1", referralID: "r1", partnerID: "police", purposes: ["domestic-abuse"], recipients: nil, method: "verbal",
            obtainedAt: at, expiresAt: nil, withdrawnAt: later, sealedDetails: nil, recordedAt: at
        )
        let base = #"{"id":"c1","referralId":"r1","subjectId":"s1","partner":"police","purposes":["domestic-abuse"],"recipients":null,"method":"verbal","obtainedAt":"2025-11-24T16:00:00.000Z","expiresAt":null,"withdrawnAt":"2025-11-24T16:00:01.234Z","recordedAt":"2025-11-24T16:00:00.000Z","state":"withdrawn""#
        XCTAssertEqual(text(Rendering.json(ConsentView(record: consent, state: .withdrawn, details: .notAsked))), base + "}")
        XCTAssertEqual(
            text(Rendering.json(ConsentView(record: consent, state: .withdrawn, details: .shown(["notes": "n"])))), base + #","details":{"notes":"n"}}"#
        )
        XCTAssertEqual(
            text(Rendering.json(ConsentView(record: consent, state: .withdrawn, details: .erased))), base + #","details":null,"detailsErased":true}"#
        )
        XCTAssertEqual(ConsentView.State.inForce.rawValue, "in-force")
    }

    func testSubjectRightsOutcomes() {
        let export = SubjectExport(
            subjectID: "s1", createdAt: at, restricted: false, erasedAt: nil,
            referrals: [SubjectExport.Referral(id: "r1", partnerID: "police", schemaID: "urn:x", receivedAt: at, document: nil)],
            consents: [SubjectExport.Consent(record: ConsentRecord(
                id: "c1", subjectID: "s1", referralID: "r1", partnerID: "police", purposes: ["p"], recipients: ["dv"], method: "written",
                obtainedAt: at, expiresAt: later, withdrawnAt: nil, sealedDetails: nil, recordedAt: at
            ), details: ["obtainedBy": "PC"])],
            disclosures: [], log: [], exportedAt: later
        )
        XCTAssertEqual(
            text(Rendering.json(export)),
            #"{"subjectId":"s1","createdAt":"2025-11-24T16:00:00.000Z","restricted":false,"erasedAt":null,"referrals":[{"id":"r1","partner":"police","schema":"urn:x","receivedAt":"2025-11-24T16:00:00.000Z","document":null}],"consents":[{"id":"c1","referralId":"r1","partner":"police","purposes":["p"],"recipients":["dv"],"method":"written","obtainedAt":"2025-11-24T16:00:00.000Z","expiresAt":"2025-11-24T16:00:01.234Z","withdrawnAt":null,"details":{"obtainedBy":"PC"}}],"disclosures":[],"log":[],"exportedAt":"2025-11-24T16:00:01.234Z"}"#
        )
        let notice = NoticeSummary(id: "n1", disclosureID: "d0", recipientID: "gvs", reason: "subject-erased")
        XCTAssertEqual(
            text(Rendering.json(ErasureOutcome(subjectID: "s1", erasedAt: at, alreadyErased: false, cancelled: ["d1"], notices: [notice]))),
            #"{"subjectId":"s1","erasedAt":"2025-11-24T16:00:00.000Z","cancelled":["d1"],"erasureNotices":["gvs"],"notices":[{"id":"n1","disclosureId":"d0","recipient":"gvs","reason":"subject-erased"}]}"#
        )
        XCTAssertEqual(
            text(Rendering.json(ErasureOutcome(subjectID: "s1", erasedAt: at, alreadyErased: true, cancelled: [], notices: []))),
            #"{"subjectId":"s1","erasedAt":"2025-11-24T16:00:00.000Z","alreadyErased":true,"cancelled":[],"erasureNotices":[],"notices":[]}"#
        )
        XCTAssertEqual(
            text(Rendering.json(RestrictionOutcome(subjectID: "s1", restricted: true, changed: ["d1"]))),
            #"{"subjectId":"s1","restricted":true,"changed":["d1"]}"#
        )
        XCTAssertEqual(
            text(Rendering.json(RectificationOutcome(subjectID: "s1", changed: ["/a", "/b"], noticeRecipients: ["dv", "dv"]))),
            #"{"subjectId":"s1","changed":["/a","/b"],"rectificationNotices":["dv","dv"]}"#
        )
    }

    func testRetentionMailboxAndLogPages() {
        XCTAssertEqual(
            text(Rendering.json(RetentionReport(subjectsErased: 2, consentDetailsErased: 0, logPrunedThrough: nil))),
            #"{"subjectsErased":2,"consentDetailsErased":0,"logPrunedThrough":null}"#
        )
        XCTAssertEqual(
            text(Rendering.json(RetentionReport(subjectsErased: 0, consentDetailsErased: 1, logPrunedThrough: 40))),
            #"{"subjectsErased":0,"consentDetailsErased":1,"logPrunedThrough":40}"#
        )
        let status = RetentionStatus(
            referrals: .forever, consents: .kept(retention: .seconds(129_600), nextDue: at, overdue: true),
            log: .kept(retention: .seconds(86_400 * 30), nextDue: nil, overdue: false), logAnchor: (seq: 9, hash: "ab")
        )
        XCTAssertEqual(
            text(Rendering.json(status)),
            #"{"referrals":{"retention":"forever"},"consents":{"retentionDays":1.5,"nextDue":"2025-11-24T16:00:00.000Z","overdue":true},"log":{"retentionDays":30,"nextDue":null,"overdue":false},"logAnchor":{"seq":9,"hash":"ab"}}"#
        )
        let page = MailboxPage(
            items: [MailboxPage.Item(id: "m1", kind: .disclosure, disclosureID: "d1", recipientID: "dv", enqueuedAt: at)], next: "m1"
        )
        XCTAssertEqual(
            text(Rendering.json(page)),
            #"{"items":[{"id":"m1","type":"disclosure","disclosureId":"d1","recipient":"dv","enqueuedAt":"2025-11-24T16:00:00.000Z"}],"next":"m1"}"#
        )
        XCTAssertEqual(text(Rendering.json(MailboxPage(items: [], next: nil))), #"{"items":[],"next":null}"#)
        XCTAssertEqual(
            text(Rendering.json(Acknowledgement(itemID: "m1", acknowledgedAt: at))),
            #"{"id":"m1","state":"delivered","acknowledgedAt":"2025-11-24T16:00:00.000Z"}"#
        )
        XCTAssertEqual(text(Rendering.json(Acknowledgement(itemID: "m1", acknowledgedAt: nil))), #"{"id":"m1","state":"delivered","acknowledgedAt":null}"#)
        XCTAssertEqual(text(Rendering.json(LogPage(entries: [], next: 12))), #"{"entries":[],"next":12}"#)
        XCTAssertEqual(text(Rendering.json(LogPage(entries: [], next: nil))), #"{"entries":[],"next":null}"#)
    }

    func testVerificationReportsAndSubjectsFound() {
        var report = LogVerificationReport(
            entries: 3, lastSeq: 3, lastHash: "h", checkpointsChecked: 0, signaturesChecked: false, lastCheckpoint: nil, prunedThrough: nil
        )
        XCTAssertEqual(
            text(Rendering.json(report)),
            #"{"valid":true,"entries":3,"lastSeq":3,"lastHash":"h","checkpointsChecked":0,"signaturesChecked":false,"lastCheckpoint":null,"prunedThrough":null}"#
        )
        report.keptCheckpointPruned = true
        report.prunedThrough = 2
        report.failure = LogVerificationFailure(seq: 3, reason: "entry 3 was altered")
        XCTAssertEqual(
            text(Rendering.json(report)),
            #"{"valid":false,"entries":3,"lastSeq":3,"lastHash":"h","checkpointsChecked":0,"signaturesChecked":false,"lastCheckpoint":null,"prunedThrough":2,"keptCheckpoint":"pruned by retention; not checked","failure":{"seq":3,"reason":"entry 3 was altered"}}"#
        )
        let match = SubjectMatch(
            subjectID: "s1", matchedBy: [], createdAt: at, restricted: true, referrals: [(id: "r1", partner: "police", receivedAt: later)]
        )
        XCTAssertEqual(
            text(Rendering.json(match)),
            #"{"subjectId":"s1","matchedBy":[],"createdAt":"2025-11-24T16:00:00.000Z","restricted":true,"referrals":[{"id":"r1","partner":"police","receivedAt":"2025-11-24T16:00:01.234Z"}]}"#
        )
    }
}
