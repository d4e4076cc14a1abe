import Crypto
import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// Outbox claims: a due push item is held by one claimant until its lease ends, its attempt is
/// recorded, or it is given back; pull items are never claimed.
final class SQLiteStoreOutboxClaimTests: XCTestCase {
    private let at = Timestamp(milliseconds: 1_000_000)

    private func open(_ folder: String = ProjectPaths.temporaryDirectory()) throws -> SQLiteStore {
        try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
    }

    private func item(_ id: String, recipient: String = "dv", mode: OutboxItem.Mode = .push, due: Int64 = 0, state: OutboxItem.State = .pending) -> OutboxItem {
        OutboxItem(
            id: id, kind: .disclosure, disclosureID: id, recipientID: recipient, mode: mode, state: state,
            enqueuedAt: Timestamp(milliseconds: at.milliseconds + due), nextAttemptAt: Timestamp(milliseconds: at.milliseconds + due)
        )
    }

    /// A store holding `items`, each with the subject, referral and disclosure it refers to.
    private func store(with items: [OutboxItem]) async throws -> SQLiteStore {
        let store = try open()
        let at = self.at
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: at), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
            try txn.insertReferral(ReferralRecord(
                id: "r", partnerID: "p", referenceKey: [1], subjectID: "s", schemaID: "x", bodyDigest: [2], sealedBody: [3], receivedAt: at, receipt: []
            ))
            for item in items {
                try txn.insertDisclosure(DisclosureRecord(
                    id: item.disclosureID, referralID: "r", subjectID: "s", recipientID: item.recipientID, service: "svc", state: .queued,
                    lawfulBasis: .consent, consentID: nil, justificationDigest: nil, actor: "p", pointers: [], categories: [], reason: nil,
                    createdAt: at, updatedAt: at
                ))
                try txn.enqueue(item)
            }
        }
        return store
    }

    private func claim(
        _ store: SQLiteStore, _ claimant: String, recipient: String = "dv", now: Int64 = 0, lease: Int64 = 60_000, limit: Int = 10
    ) async throws -> [OutboxItem] {
        let at = self.at
        return try await store.write { txn in
            try txn.claimDueOutbox(
                recipientID: recipient, now: Timestamp(milliseconds: at.milliseconds + now),
                leaseUntil: Timestamp(milliseconds: at.milliseconds + now + lease), claimant: claimant, limit: limit
            )
        }
    }

    private func due(_ store: SQLiteStore, now: Int64 = 0) async throws -> [String] {
        let at = self.at
        return try await store.read { txn in try txn.dueOutbox(recipientID: "dv", now: Timestamp(milliseconds: at.milliseconds + now), limit: 10).map(\.id) }
    }

    func testAClaimTakesDueItemsSoonestFirstUpToTheLimitAndSaysWhoHoldsThemUntilWhen() async throws {
        let store = try await store(with: [item("b", due: 20), item("a", due: 10), item("c", due: 30), item("later", due: 5_000)])
        defer { store.close() }
        let claimed = try await claim(store, "node-1", now: 1_000, limit: 2)
        XCTAssertEqual(claimed.map(\.id), ["a", "b"])
        XCTAssertEqual(claimed.map(\.claim), Array(repeating: OutboxClaim(claimant: "node-1", until: Timestamp(milliseconds: at.milliseconds + 61_000)), count: 2))
        let value1 = try await claim(store, "node-1", now: 1_000).map(\.id)
        XCTAssertEqual(value1, ["c"], "an item is claimed once; not due yet is not claimed")
        let value2 = try await due(store, now: 1_000)
        XCTAssertEqual(value2, [], "claimed items are not due for anyone else")
    }

    func testAnotherClaimantGetsNothingHeldUntilTheLeaseEnds() async throws {
        let store = try await store(with: [item("a"), item("b")])
        defer { store.close() }
        let value3 = try await claim(store, "node-1", lease: 30_000).map(\.id)
        XCTAssertEqual(value3, ["a", "b"])
        let value4 = try await claim(store, "node-2", now: 29_999).map(\.id)
        XCTAssertEqual(value4, [], "one millisecond before the lease ends")
        // The holder died: at the lease's end the items are anyone's.
        let value5 = try await due(store, now: 30_000)
        XCTAssertEqual(value5, ["a", "b"])
        let taken = try await claim(store, "node-2", now: 30_000, lease: 1_000)
        XCTAssertEqual(taken.map(\.id), ["a", "b"])
        XCTAssertEqual(taken.first?.claim?.claimant, "node-2")
        let value6 = try await claim(store, "node-1", now: 30_500).map(\.id)
        XCTAssertEqual(value6, [], "the new lease holds against the old holder too")
    }

    func testReleaseMakesAnItemClaimableAtOnceButOnlyByItsHolder() async throws {
        let store = try await store(with: [item("a")])
        defer { store.close() }
        let claimed = try await claim(store, "node-1")
        let held = try XCTUnwrap(claimed.first?.claim)
        try await store.write { txn in try txn.releaseOutboxClaim(id: "a", claim: OutboxClaim(claimant: "node-2", until: held.until)) }
        let value7 = try await claim(store, "node-2").map(\.id)
        XCTAssertEqual(value7, [], "another claimant cannot end node-1's lease")
        try await store.write { txn in try txn.releaseOutboxClaim(id: "a", claim: held) }
        let value8 = try await claim(store, "node-2").map(\.id)
        XCTAssertEqual(value8, ["a"])
        try await store.write { txn in try txn.releaseOutboxClaim(id: "gone", claim: held) }  // nothing to release: no error
    }

    /// One process claims an item, its lease ends before the attempt is recorded (a stalled
    /// writer), and it claims the item again for a second attempt: recording the first must not
    /// end the second's lease, or a third attempt could start beside the second.
    func testReleasingAnEndedClaimLeavesTheSameClaimantsLaterClaimInPlace() async throws {
        let store = try await store(with: [item("a")])
        defer { store.close() }
        let firstClaims = try await claim(store, "node-1", lease: 30_000)
        let secondClaims = try await claim(store, "node-1", now: 30_000, lease: 30_000)
        let first = try XCTUnwrap(firstClaims.first?.claim)
        let second = try XCTUnwrap(secondClaims.first?.claim)
        XCTAssertNotEqual(first, second)
        try await store.write { txn in try txn.releaseOutboxClaim(id: "a", claim: first) }
        let value = try await due(store, now: 30_001)
        XCTAssertEqual(value, [], "the later claim still holds the item")
        try await store.write { txn in try txn.releaseOutboxClaim(id: "a", claim: second) }
        let released = try await due(store, now: 30_001)
        XCTAssertEqual(released, ["a"])
    }

    func testPullFailedAndOtherRecipientsItemsAreNeverClaimed() async throws {
        let store = try await store(with: [
            item("pull", mode: .pull), item("failed", state: .failed), item("other", recipient: "translation"), item("push"),
        ])
        defer { store.close() }
        let value9 = try await claim(store, "node-1").map(\.id)
        XCTAssertEqual(value9, ["push"])
        let value10 = try await claim(store, "node-1", recipient: "translation").map(\.id)
        XCTAssertEqual(value10, ["other"])
        let mailbox = try await store.read { txn in try txn.mailbox(recipientIDs: ["dv"], afterID: nil, limit: 10).map(\.id) }
        XCTAssertEqual(mailbox, ["pull"], "a pull mailbox is untouched by claims")
        let value11 = try await claim(store, "node-1", limit: 0).map(\.id)
        XCTAssertEqual(value11, [])
    }

    func testRecordingAnAttemptEndsItsClaimAndARetryIsClaimedWhenDueAgain() async throws {
        let store = try await store(with: [item("a")])
        defer { store.close() }
        let exchange = Exchange(store: store, catalog: .empty, keyring: Keyring(masterKey: SymmetricKey.random()), recipients: [])
        let claims = try await claim(store, "node-1", lease: 3_600_000)
        let claimed = try XCTUnwrap(claims.first)
        // Due again 1 s from the real clock's now (the exchange records with its own clock).
        let retryAt = Timestamp(milliseconds: Timestamp(Date()).milliseconds + 1_000)
        try await exchange.recordDelivery(claimed, decision: .retry(at: retryAt, reason: "HTTP 503"))
        let stored = try await store.read { txn in try txn.outboxItem(id: "a") }
        XCTAssertEqual(stored?.attempts, 1)
        XCTAssertEqual(stored?.nextAttemptAt, retryAt)
        let claimedAgain = try await store.write { txn in
            try txn.claimDueOutbox(recipientID: "dv", now: retryAt, leaseUntil: Timestamp(milliseconds: retryAt.milliseconds + 1), claimant: "node-2", limit: 1)
        }
        XCTAssertEqual(claimedAgain.map(\.id), ["a"], "recorded: no longer held by node-1, though its lease had an hour left")
    }

    func testMigrationFiveAddsTheLeaseColumns() throws {
        let folder = ProjectPaths.temporaryDirectory()
        try open(folder).close()
        let connection = try SQLiteConnection(path: "\(folder)/refex.db")
        let columns = try connection.query("SELECT name FROM pragma_table_info('outbox') WHERE name LIKE 'lease%' ORDER BY name").compactMap { $0.text(0) }
        XCTAssertEqual(columns, ["lease_holder", "lease_until"])
        XCTAssertEqual(try connection.first("PRAGMA user_version")?.integer(0).map(Int.init), StoreSchema.main.latestVersion, "later migrations follow")
    }

    func testItemsQueuedBeforeClaimsExistedAreClaimableAfterTheMigration() async throws {
        let before = try await store(with: [item("queued-before")])
        let path = before.path
        before.close()
        // As refex before migration 5 left it.
        let connection = try SQLiteConnection(path: path)
        try connection.execute("DROP TABLE subject_index_pending; ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_until; PRAGMA user_version = 4;")
        let after = try open(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        defer { after.close() }
        let claimed = try await claim(after, "node-1")
        XCTAssertEqual(claimed.map(\.id), ["queued-before"])
    }
}
