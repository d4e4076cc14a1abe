import Crypto
import Exchange
import Foundation
import JSON
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// Issue 17: intake commits the main database alone. Subject keys are stored ahead in their own
/// commit of the keys database, blind-index entries after the data's commit, and the writer opens
/// a keys transaction only for a write that changes keys.
final class SQLiteStoreKeysAheadTests: XCTestCase {
    private let keyring = Keyring(masterKey: SymmetricKey.random())

    private func open(_ folder: String) throws -> SQLiteStore {
        try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
    }

    /// SQLite's file change counter (header bytes 24–27): a rollback-journal database's commits each add one.
    private func changeCounter(_ path: String) throws -> UInt32 {
        let header = try XCTUnwrap(FileManager.default.contents(atPath: path)?.prefix(28))
        return header.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    private func fresh(_ id: String) throws -> WrappedSubjectKey {
        try keyring.newSubjectKey(subjectID: id).wrapped
    }

    /// Waits (polling, at most `seconds`) until `condition` holds.
    private func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    func testASubjectWithAKeyStoredAheadCommitsWithoutTouchingTheKeysDatabase() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try open(folder)
        defer { store.close() }
        let stored = try await store.storeSubjectKeysAhead([try fresh("ahead-1"), try fresh("ahead-2")])
        XCTAssertTrue(stored)
        let before = try changeCounter("\(folder)/keys.db")
        try await store.write { txn in
            try txn.insertSubject(keyStoredAhead: SubjectRecord(id: "ahead-1", createdAt: txn.now))
            try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", subjectID: "ahead-1").prepared())
        }
        XCTAssertEqual(try changeCounter("\(folder)/keys.db"), before, "intake with a key made ahead commits the main database alone")
        let (subject, key) = try await store.read { txn in
            (try txn.subject(id: "ahead-1"), try txn.subjectKey(subjectID: "ahead-1"))
        }
        XCTAssertNotNil(subject)
        XCTAssertNotNil(try key.map { try keyring.unwrap($0) }, "the key stored ahead opens")
        // A write that does change keys still commits them (keys first): the counter moves.
        try await store.write { txn in try txn.eraseSubject(id: "ahead-1", at: txn.now) }
        XCTAssertGreaterThan(try changeCounter("\(folder)/keys.db"), before)
        let erasedKey = try await store.read { txn in try txn.subjectKey(subjectID: "ahead-1") }
        XCTAssertNil(erasedKey, "erasure deletes a key that was stored ahead")
    }

    func testASubjectWhoseKeyWasNotStoredAheadIsNeverStored() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        do {
            try await store.write { txn in try txn.insertSubject(keyStoredAhead: SubjectRecord(id: "never-stored", createdAt: txn.now)) }
            XCTFail("a subject without its key was stored")
        } catch let error as StoreError {
            XCTAssertTrue(error.description.contains("not stored ahead"), error.description)
        }
        let subject = try await store.read { txn in try txn.subject(id: "never-stored") }
        XCTAssertNil(subject)
    }

    func testQueuedIndexEntriesReachTheKeysDatabaseAfterTheCommitAndTheReferralStopsWaiting() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        _ = try await store.storeSubjectKeysAhead([try fresh("s1")])
        let entry = SubjectIndexEntry(kind: .reference, digest: [1, 2, 3], subjectID: "s1", referralID: "r1")
        try await store.write { txn in
            try txn.insertSubject(keyStoredAhead: SubjectRecord(id: "s1", createdAt: txn.now))
            try txn.queueSubjectIndex([entry])
        }
        let waiting = try await store.read { txn in try txn.referralsAwaitingIndex(limit: 10) }
        XCTAssertEqual(waiting, ["r1"], "the commit records, ids only, which referral awaits its entries")
        let written = await (try? eventually {
            try await store.read { txn in try txn.subjectIndexEntries(kind: .reference, digest: [1, 2, 3]) } == [entry]
        }) ?? false
        XCTAssertTrue(written, "the entries are written to the keys database after the commit")
        // The next commit clears what was written from the waiting list.
        try await store.write { _ in }
        let stillWaiting = try await store.read { txn in try txn.referralsAwaitingIndex(limit: 10) }
        XCTAssertEqual(stillWaiting, [])
    }

    func testIndexEntriesOfASubjectErasedBeforeTheyAreWrittenAreNeverWritten() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try open(folder)
        _ = try await store.storeSubjectKeysAhead([try fresh("gone")])
        let entry = SubjectIndexEntry(kind: .crimeReference, digest: [9, 9], subjectID: "gone", referralID: "r-gone")
        try await store.write { txn in
            try txn.insertSubject(keyStoredAhead: SubjectRecord(id: "gone", createdAt: txn.now))
            try txn.queueSubjectIndex([entry])
        }
        // Erased at once: before the entries' own commit (they wait up to 100 ms to share one).
        try await store.write { txn in try txn.eraseSubject(id: "gone", at: txn.now) }
        store.close()  // writes what is handed over
        let reopened = try open(folder)
        defer { reopened.close() }
        let found = try await reopened.read { txn in try txn.subjectIndexEntries(kind: .crimeReference, digest: [9, 9]) }
        XCTAssertEqual(found, [], "an index entry outlived its subject's erasure")
    }

    func testReferralsAwaitingTheirEntriesAfterACrashAreIndexedByTheBackfill() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        _ = try await store.storeSubjectKeysAhead([try fresh("s-crash")])
        let subjectKey = try await store.read { txn in try XCTUnwrap(try txn.subjectKey(subjectID: "s-crash")) }
        let key = try keyring.unwrap(subjectKey)
        let document: JSONValue = ["referenceId": "CRASH-1", "offence": ["crimeReference": "CR/1"]]
        let sealed = try keyring.seal(document.serialized(), key: key, context: "referral|r-crash")
        // As a crash leaves it: the referral committed and waiting, its entries never written.
        try await store.write { txn in
            try txn.insertSubject(keyStoredAhead: SubjectRecord(id: "s-crash", createdAt: txn.now))
            try txn.insertReferral(ReferralRecord(
                id: "r-crash", partnerID: "police", referenceKey: [1], subjectID: "s-crash", schemaID: "urn:x", bodyDigest: [2],
                sealedBody: sealed, receivedAt: txn.now, receipt: []
            ))
            try XCTUnwrap(txn as? SQLiteTransaction).main.query("INSERT INTO subject_index_pending (referral_id) VALUES ('r-crash')")
        }
        let exchange = Exchange(store: store, catalog: .empty, keyring: keyring, recipients: [])
        let indexed = try await exchange.backfillSubjectIndex()
        XCTAssertGreaterThanOrEqual(indexed, 1)
        let digest = BlindIndex(keyring: keyring).digest(.crimeReference, [BlindIndex.normalisedReference("CR/1")])
        let (entries, waiting) = try await store.read { txn in
            (try txn.subjectIndexEntries(kind: .crimeReference, digest: digest), try txn.referralsAwaitingIndex(limit: 10))
        }
        XCTAssertEqual(entries.map(\.referralID), ["r-crash"])
        XCTAssertEqual(waiting, [])
    }

    func testTheWriterCountsItsCommitsAndTheWritesTheyHold() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        let before = try XCTUnwrap(store.commitGroupTotals)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try await store.write { txn in _ = try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "a\(index)")) }
                }
            }
            try await group.waitForAll()
        }
        let after = try XCTUnwrap(store.commitGroupTotals)
        XCTAssertEqual(after.writes - before.writes, 64)
        XCTAssertGreaterThanOrEqual(after.commits - before.commits, 1)
        XCTAssertLessThanOrEqual(after.commits - before.commits, 64)
    }

    // MARK: The pool (Exchange's SubjectKeyPool over this store)

    func testThePoolHandsEachKeyOutOnceAndNeverWaitsWhenEmpty() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        let pool = SubjectKeyPool(batch: 8, lowWater: 0)
        // Empty at first: take answers at once (the caller makes its own key) and starts a refill.
        var started = ContinuousClock.now
        XCTAssertNil(pool.take(keyring: keyring, store: store))
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(500))
        let filled = await eventually { pool.counts.refills == 1 && pool.counts.ready == 8 }
        XCTAssertTrue(filled, "refilled on demand")
        var taken: [String] = []
        for _ in 0..<8 { if let fresh = pool.take(keyring: keyring, store: store) { taken.append(fresh.subjectID) } }
        XCTAssertEqual(taken.count, 8)
        // Every key handed out is already durable in the keys database, and opens.
        let ids = taken
        let stored = try await store.read { txn in try ids.map { try txn.subjectKey(subjectID: $0) } }
        for (id, wrapped) in zip(taken, stored) {
            XCTAssertNotNil(try wrapped.map { try keyring.unwrap($0) }, id)
        }
        // Taking the last one started the next refill; meanwhile take never waits.
        started = ContinuousClock.now
        _ = pool.take(keyring: keyring, store: store).map { taken.append($0.subjectID) }
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(500))
        let refilled = await eventually { pool.counts.refills >= 2 }
        XCTAssertTrue(refilled, "an exhausted pool refills on demand")
        while let fresh = pool.take(keyring: keyring, store: store), taken.count < 32 { taken.append(fresh.subjectID) }
        XCTAssertEqual(Set(taken).count, taken.count, "no key handed out twice")
        // A refill still making keys when the process exits would race OpenSSL's teardown.
        await pool.stop()
    }

    func testConcurrentTakersNeverShareAKey() async throws {
        let store = try open(ProjectPaths.temporaryDirectory())
        defer { store.close() }
        let pool = SubjectKeyPool(batch: 64, lowWater: 32)
        await pool.refill(keyring: keyring, store: store)
        XCTAssertEqual(pool.counts.ready, 64)
        let keyring = self.keyring
        let ids = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<200 { group.addTask { pool.take(keyring: keyring, store: store)?.subjectID } }
            var ids: [String] = []
            for await id in group { if let id { ids.append(id) } }
            return ids
        }
        XCTAssertGreaterThanOrEqual(ids.count, 64)
        XCTAssertEqual(Set(ids).count, ids.count, "a key was handed out twice")
        await pool.stop()
    }

    func testAPoolOverAStoreThatKeepsNoKeysAheadStopsAsking() async throws {
        let store = InMemoryStore()
        let pool = SubjectKeyPool(batch: 4, lowWater: 4)
        await pool.refill(keyring: keyring, store: store)
        XCTAssertNil(pool.take(keyring: keyring, store: store))
        XCTAssertEqual(pool.counts.refills, 0)
    }

    func testKeysLeftInAPoolWhenTheStoreStopsAreNeverHandedOutAfterItOpensAgain() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let first = try open(folder)
        let before = SubjectKeyPool(batch: 16, lowWater: 0)
        await before.refill(keyring: keyring, store: first)
        XCTAssertEqual(before.counts.ready, 16)
        // One taken as a commit that never finished would take it; the rest never taken.
        let takenByAnUnfinishedCommit = try XCTUnwrap(before.take(keyring: keyring, store: first))
        await before.stop()
        first.close()
        let second = try open(folder)
        defer { second.close() }
        let after = SubjectKeyPool(batch: 16, lowWater: 0)
        await after.refill(keyring: keyring, store: second)
        var handed: Set<String> = []
        for _ in 0..<16 { if let fresh = after.take(keyring: keyring, store: second) { handed.insert(fresh.subjectID) } }
        await after.stop()
        XCTAssertEqual(handed.count, 16)
        XCTAssertFalse(handed.contains(takenByAnUnfinishedCommit.subjectID))
        // Even offered again (a bug, a stale pool), the store refuses a key an earlier process stored ahead.
        let stale = takenByAnUnfinishedCommit.subjectID
        do {
            try await second.write { txn in try txn.insertSubject(keyStoredAhead: SubjectRecord(id: stale, createdAt: txn.now)) }
            XCTFail("a key stored ahead before the restart was given to a subject")
        } catch is StoreError {}
        // And one of this process's keys is given to one subject only.
        let once = try XCTUnwrap(handed.first)
        try await second.write { txn in try txn.insertSubject(keyStoredAhead: SubjectRecord(id: once, createdAt: txn.now)) }
        do {
            try await second.write { txn in try txn.insertSubject(keyStoredAhead: SubjectRecord(id: once, createdAt: txn.now)) }
            XCTFail("a key stored ahead was given twice")
        } catch is StoreError {}
        let orphans = try await second.read { txn in
            try XCTUnwrap(txn as? SQLiteTransaction).keys.query("SELECT subject_id FROM subject_keys").compactMap { $0.text(0) }
        }
        XCTAssertGreaterThanOrEqual(Set(orphans).count, 32, "the first pool's keys stay in the file, unassigned")
        XCTAssertTrue(handed.isDisjoint(with: Set(orphans).subtracting(handed)))
    }
}
