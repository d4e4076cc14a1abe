import Crypto
import Exchange
import Foundation
import JSON
import Logging
import Store
import TestSupport
import XCTest

/// Receipts are stored as the JSON they were first answered with; a repeat of the request gets the
/// typed answer back read from it, and `firstAnswer` holding those bytes unchanged, even when an
/// earlier refex stored them in another shape.
final class ReceiptReplayTests: XCTestCase {
    private var folder = ""
    private var store: SQLiteStore?

    override func tearDown() {
        store?.close()
        super.tearDown()
    }

    private func exchange() throws -> Exchange {
        folder = ProjectPaths.temporaryDirectory()
        let store = try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
        self.store = store
        let recipients = [
            Recipient(id: "dv", name: "DV", services: ["domestic-abuse"], fields: ["/offence/category"], categories: [], delivery: .pull(partnerID: "r")),
            Recipient(
                id: "gvs", name: "GVS", services: ["general-victim-support"], fields: ["/offence/category"], categories: [],
                delivery: .pull(partnerID: "r")
            ),
        ]
        return Exchange(
            store: store, catalog: try SchemaCatalog(folder: "\(ProjectPaths.root)/schemas"), keyring: Keyring(masterKey: .random()),
            recipients: recipients
        )
    }

    private func example(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/schemas/examples/\(name)")))
    }

    private let police = Actor(id: "police")

    func testARepeatedReferralGetsTheStoredReceiptByteForByteAndTheSameTypedValue() async throws {
        let exchange = try exchange()
        let first = try await exchange.submitReferral(try example("referral-1-domestic-abuse.json"), by: police)
        XCTAssertFalse(first.isRepeat)
        XCTAssertEqual(first.disclosures.map(\.state), [.queued, .awaitingConsent])
        let again = try await exchange.submitReferral(try example("referral-1-domestic-abuse.json"), by: police)
        XCTAssertTrue(again.isRepeat)
        XCTAssertEqual(again.firstAnswer?.serializedString(), first.json.serializedString())
        var typed = again
        typed.firstAnswer = nil
        XCTAssertEqual(typed, first, "the typed value is read back whole")
    }

    func testAReceiptStoredInAnOlderShapeIsReplayedAsStored() async throws {
        let exchange = try exchange()
        let first = try await exchange.submitReferral(try example("referral-1-domestic-abuse.json"), by: police)
        // Another member order and a member this refex no longer writes.
        let older = #"{"status":"in-progress","id":"\#(first.id)","legacy":1,"subjectId":"\#(first.subjectID)","receivedAt":"\#(first.receivedAt)","disclosures":[]}"#
        try await XCTUnwrap(store).write { txn in try txn.setReceipt(referralID: first.id, Array(older.utf8)) }
        let again = try await exchange.submitReferral(try example("referral-1-domestic-abuse.json"), by: police)
        XCTAssertEqual(again.firstAnswer?.serializedString(), older)
        XCTAssertEqual(again.id, first.id)
        XCTAssertEqual(again.receivedAt, first.receivedAt)
        XCTAssertEqual(again.disclosures, [])
    }

    func testConsentAndWithdrawalReceiptsReplayByteForByte() async throws {
        let exchange = try exchange()
        let referral = try await exchange.submitReferral(try example("referral-1-domestic-abuse.json"), by: police)
        let consentBody = Array(String(decoding: try example("consent-1.json"), as: UTF8.self)
            .replacingOccurrences(of: "3f2c1a9e-8b7d-4c6e-9f10-1a2b3c4d5e6f", with: referral.id).utf8)
        let consent = try await exchange.recordConsent(consentBody, by: police)
        XCTAssertEqual(consent.released.map(\.recipientID), ["gvs"])
        let consentAgain = try await exchange.recordConsent(consentBody, by: police)
        XCTAssertEqual(consentAgain.firstAnswer?.serializedString(), consent.json.serializedString())
        XCTAssertEqual(consentAgain.released, consent.released)

        // The referral's own consent still covers the subject: kept, and said why.
        let withdrawal = try await exchange.withdrawConsent(consent.id, by: police)
        XCTAssertFalse(withdrawal.erased)
        XCTAssertEqual(withdrawal.cancelled.map(\.recipientID), ["gvs"])
        XCTAssertTrue(withdrawal.retainedBecause.contains { if case .consent = $0 { true } else { false } })
        let withdrawalAgain = try await exchange.withdrawConsent(consent.id, by: police)
        XCTAssertEqual(withdrawalAgain.firstAnswer?.serializedString(), withdrawal.json.serializedString())
        XCTAssertEqual(withdrawalAgain.retainedBecause, withdrawal.retainedBecause)
        XCTAssertEqual(withdrawalAgain.cancelled, withdrawal.cancelled)
        XCTAssertEqual(withdrawalAgain.keptUnderAnotherConsent, [])

        let leaving = try await exchange.withdrawSubject(referral.subjectID, by: police)
        XCTAssertEqual(leaving.consentsWithdrawn.count, 1, "the referral's own consent; the other was withdrawn already")
        let leavingAgain = try await exchange.withdrawSubject(referral.subjectID, by: police)
        XCTAssertEqual(leavingAgain.firstAnswer?.serializedString(), leaving.json.serializedString())
        XCTAssertEqual(leavingAgain.consentsWithdrawn, leaving.consentsWithdrawn)
        XCTAssertEqual(leavingAgain.erasedAt, leaving.erasedAt)

        // The referral's consent, withdrawn with the subject, answers with what that did.
        let consents = try await exchange.consents(subjectID: referral.subjectID, referralID: nil)
        let withSubject = try XCTUnwrap(consents.first { $0.id == leaving.consentsWithdrawn.first })
        let answer = try await exchange.withdrawConsent(withSubject.id, by: police)
        XCTAssertTrue(answer.isRepeat)
        XCTAssertTrue(answer.withSubject)
        XCTAssertTrue(answer.erased)
        XCTAssertNil(answer.keptUnderAnotherConsent)
        XCTAssertEqual(answer.firstAnswer?["withSubject"], .bool(true))
    }
}
