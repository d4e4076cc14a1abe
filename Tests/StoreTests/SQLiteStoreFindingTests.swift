import Exchange
import Foundation
import Logging
import TestSupport
import XCTest
@testable import Store

/// Ids by prefix, filter values and blind-index entries, on a store in a temporary folder.
final class SQLiteStoreFindingTests: XCTestCase {
    private func open() throws -> SQLiteStore {
        let folder = ProjectPaths.temporaryDirectory()
        return try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
    }

    private static func subject(_ id: String, _ txn: any StoreTransaction) throws {
        try txn.insertSubject(SubjectRecord(id: id, createdAt: txn.now), key: WrappedSubjectKey(subjectID: id, wrapped: [1]))
    }

    private static func entry(_ kind: SubjectKeyKind, _ digest: UInt8, _ subject: String, _ referral: String) -> SubjectIndexEntry {
        SubjectIndexEntry(kind: kind, digest: [digest], subjectID: subject, referralID: referral)
    }

    func testIdsAreFoundByPrefixAndTheirNeighboursTellHowMuchIsUnique() async throws {
        let store = try open()
        defer { store.close() }
        let ids = ["0aa1-1", "0aa1-2", "0ab0-1", "0b00-0"]
        try await store.write { txn in for id in ids { try Self.subject(id, txn) } }
        let (all, two, one, none, exact, neighbours, first) = try await store.read { txn in
            (try txn.ids(.subject, prefix: "0", limit: 10), try txn.ids(.subject, prefix: "0aa1", limit: 10),
             try txn.ids(.subject, prefix: "0ab", limit: 10), try txn.ids(.subject, prefix: "1", limit: 10),
             try txn.ids(.subject, prefix: "0aa1-2", limit: 10), try txn.idNeighbours(.subject, of: "0aa1-2"),
             try txn.idNeighbours(.subject, of: "0aa1-1"))
        }
        XCTAssertEqual(all, ids)
        XCTAssertEqual(two, ["0aa1-1", "0aa1-2"])
        XCTAssertEqual(one, ["0ab0-1"])
        XCTAssertEqual(none, [])
        XCTAssertEqual(exact, ["0aa1-2"])
        XCTAssertEqual(neighbours.before, "0aa1-1")
        XCTAssertEqual(neighbours.after, "0ab0-1")
        XCTAssertNil(first.before)
        let referrals = try await store.read { txn in try txn.ids(.referral, prefix: "0", limit: 10) }
        XCTAssertEqual(referrals, [], "each kind has its own ids")
    }

    func testDistinctLogValuesAndExcludedEventsAndNewestFirst() async throws {
        let store = try open()
        defer { store.close() }
        try await store.write { txn in
            try txn.appendLog(LogEntryDraft(event: .disclosureAuthorised, actor: "police", recipientID: "b"))
            try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "host:alice"))
            try txn.appendLog(LogEntryDraft(event: .disclosureAuthorised, actor: "police", recipientID: "a"))
        }
        let (recipients, actors) = try await store.read { txn in (try txn.distinctLogValues(.recipient), try txn.distinctLogValues(.actor)) }
        XCTAssertEqual(recipients, ["a", "b"])
        XCTAssertEqual(actors, ["host:alice", "police"])
        var filter = LogFilter()
        filter.excludedEvents = ["log.viewed"]
        filter.newestFirst = true
        let newest = try await store.read { [filter] txn in try txn.logEntries(filter, limit: 10).map(\.seq) }
        XCTAssertEqual(newest, [3, 1])
        filter.beforeSeq = 3
        let before = try await store.read { [filter] txn in try txn.logEntries(filter, limit: 10).map(\.seq) }
        XCTAssertEqual(before, [1])
    }

    func testBlindIndexEntriesAreReplacedPerReferralAndErasedWithTheSubject() async throws {
        let store = try open()
        defer { store.close() }
        try await store.write { txn in
            try Self.subject("s1", txn)
            try Self.subject("s2", txn)
            try txn.insertSubjectIndex([Self.entry(.reference, 1, "s1", "r1"), Self.entry(.crimeReference, 2, "s1", "r1"), Self.entry(.reference, 1, "s2", "r2")])
            try txn.insertSubjectIndex([Self.entry(.reference, 1, "s1", "r1")])
        }
        let shared = try await store.read { txn in try txn.subjectIndexEntries(kind: .reference, digest: [1]).map(\.subjectID).sorted() }
        XCTAssertEqual(shared, ["s1", "s2"], "a repeated entry is kept once")
        try await store.write { txn in try txn.replaceSubjectIndex(referralID: "r1", with: [Self.entry(.crimeReference, 3, "s1", "r1")]) }
        let (old, new) = try await store.read { txn in
            (try txn.subjectIndexEntries(kind: .crimeReference, digest: [2]), try txn.subjectIndexEntries(kind: .crimeReference, digest: [3]))
        }
        XCTAssertEqual(old, [])
        XCTAssertEqual(new.map(\.subjectID), ["s1"])
        try await store.write { txn in try txn.eraseSubject(id: "s1", at: txn.now) }
        let (gone, kept) = try await store.read { txn in
            (try txn.subjectIndexEntries(kind: .crimeReference, digest: [3]), try txn.subjectIndexEntries(kind: .reference, digest: [1]))
        }
        XCTAssertEqual(gone, [])
        XCTAssertEqual(kept.map(\.subjectID), ["s2"])
    }
}
