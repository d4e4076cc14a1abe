import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// The store's part in sealed free text, one consent per document, and remembered acknowledgements.
final class SQLiteStoreFreeTextTests: XCTestCase {
    private func open(_ folder: String) throws -> SQLiteStore {
        try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
    }

    private static func subject(_ id: String, _ txn: any StoreTransaction) throws {
        try txn.insertSubject(SubjectRecord(id: id, createdAt: txn.now), key: WrappedSubjectKey(subjectID: id, wrapped: [1, 2, 3]))
        try txn.insertReferral(ReferralRecord(
            id: "r-\(id)", partnerID: "p", referenceKey: Array(id.utf8), subjectID: id, schemaID: "s", bodyDigest: [0],
            sealedBody: [9], receivedAt: txn.now, receipt: []
        ))
    }

    func testErasureDeletesTheSubjectsFreeTextAndAnyPlainJustificationButNoOneElses() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try open(folder)
        try await store.write { txn in
            try Self.subject("a", txn)
            try Self.subject("b", txn)
            try txn.insertFreeText(digest: "da", subjectID: "a", sealed: [1])
            try txn.insertFreeText(digest: "db", subjectID: "b", sealed: [2])
            for owner in ["a", "b"] {
                try txn.insertDisclosure(DisclosureRecord(
                    id: "d-\(owner)", referralID: "r-\(owner)", subjectID: owner, recipientID: "x", service: "fraud", state: .queued,
                    lawfulBasis: .vitalInterests, consentID: nil, justificationDigest: "d\(owner)", actor: "o", pointers: [],
                    categories: [], reason: nil, createdAt: txn.now, updatedAt: txn.now
                ))
            }
        }
        store.close()
        // A store written by an older refex kept the justification in plain text.
        do {
            let connection = try SQLiteConnection(path: "\(folder)/refex.db")
            try connection.execute("UPDATE disclosures SET justification = 'plain text from before'")
        }
        let reopened = try open(folder)
        defer { reopened.close() }
        let legacy = try await reopened.read { try $0.disclosure(id: "d-a")?.legacyJustification }
        XCTAssertEqual(legacy, "plain text from before")
        try await reopened.write { txn in try txn.eraseSubject(id: "a", at: txn.now) }
        let (gone, kept, erased, other) = try await reopened.read { txn in
            (try txn.freeText(digest: "da"), try txn.freeText(digest: "db"), try txn.disclosure(id: "d-a"), try txn.disclosure(id: "d-b"))
        }
        XCTAssertNil(gone)
        XCTAssertEqual(kept?.subjectID, "b")
        XCTAssertNil(erased?.legacyJustification)
        XCTAssertEqual(erased?.justificationDigest, "da", "the commitment stays; the text is gone")
        XCTAssertEqual(other?.legacyJustification, "plain text from before")
    }

    func testOneConsentPerDocumentAndTheFirstAcknowledgementIsKept() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        let (found, missing, first, second) = try await store.write { txn in
            try Self.subject("a", txn)
            try txn.insertConsent(ConsentRecord(
                id: "c1", subjectID: "a", referralID: "r-a", partnerID: "p", purposes: ["fraud"], recipients: nil, method: "verbal",
                obtainedAt: txn.now, expiresAt: nil, withdrawnAt: nil, sealedDetails: nil, recordedAt: txn.now, documentDigest: [7, 7]
            ))
            try txn.setConsentReceipt(id: "c1", Array("{}".utf8))
            try txn.recordAcknowledgement(itemID: "i", recipientID: "x", at: Timestamp(milliseconds: 10))
            try txn.recordAcknowledgement(itemID: "i", recipientID: "x", at: Timestamp(milliseconds: 20))
            return (
                try txn.consent(referralID: "r-a", documentDigest: [7, 7]), try txn.consent(referralID: "r-a", documentDigest: [7, 8]),
                try txn.acknowledgement(itemID: "i"), try txn.acknowledgement(itemID: "other")
            )
        }
        XCTAssertEqual(found?.id, "c1")
        XCTAssertEqual(found?.receipt, Array("{}".utf8))
        XCTAssertNil(missing)
        XCTAssertEqual(first?.at, Timestamp(milliseconds: 10))
        XCTAssertNil(second)
    }
}
