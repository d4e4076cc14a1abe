import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// The readings a page or a metrics scrape makes on every request cost the same on a log of a
/// million entries as on one of ten: each is measured in SQLite's virtual-machine steps (the
/// same on every machine), on a log far longer than the bound, so a scan fails the test.
final class SQLiteStoreReadCostTests: XCTestCase {
    private static let entries = 3_000
    /// Far below one step per entry: a lookup down a b-tree and a few rows.
    private static let bound = 300

    private func filledStore() async throws -> SQLiteStore {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
        try await store.write { txn in
            for index in 0..<Self.entries {
                let event: LogEvent = index % 3 == 0 ? .referralReceived : (index % 3 == 1 ? .disclosureAuthorised : .logViewed)
                try txn.appendLog(LogEntryDraft(event: event, actor: "police", recipientID: index % 2 == 0 ? "a" : nil))
            }
        }
        return store
    }

    /// The steps `body` ran on the reading's connection.
    private func steps<Result: Sendable>(_ store: SQLiteStore, _ body: @escaping @Sendable (SQLiteTransaction) throws -> Result) async throws -> (Result, Int) {
        try await store.read { txn in
            guard let sqlite = txn as? SQLiteTransaction else { throw StoreError("not a SQLite transaction", kind: .other) }
            let before = sqlite.main.virtualMachineSteps
            let result = try body(sqlite)
            return (result, sqlite.main.virtualMachineSteps - before)
        }
    }

    func testTheLogsBoundsAreReadWithoutAScan() async throws {
        let store = try await filledStore()
        defer { store.close() }
        let (bounds, cost) = try await steps(store) { try $0.logBounds() }
        XCTAssertEqual(bounds?.first, 1)
        XCTAssertEqual(bounds?.last, Int64(Self.entries))
        XCTAssertLessThan(cost, Self.bound, "logBounds ran \(cost) steps over \(Self.entries) entries")
    }

    func testCountsAfterASeqReadOnlyTheEntriesAfterIt() async throws {
        let store = try await filledStore()
        defer { store.close() }
        let events = [LogEvent.referralReceived.rawValue, LogEvent.disclosureAuthorised.rawValue]
        let (counts, cost) = try await steps(store) {
            try $0.logEventCounts(
                since: Timestamp(milliseconds: 0), until: Timestamp(milliseconds: Int64.max / 2), afterSeq: Int64(Self.entries - 3),
                events: events, utcOffsetMilliseconds: 0
            )
        }
        XCTAssertEqual(counts.map(\.count).reduce(0, +), 2, "of the last three entries, one received and one authorised")
        XCTAssertLessThan(cost, Self.bound)
    }

    func testTheNewestEntriesOfAnEventAfterASeqAreReadWithoutAScan() async throws {
        let store = try await filledStore()
        defer { store.close() }
        var filter = LogFilter()
        filter.event = LogEvent.logViewed.rawValue
        filter.newestFirst = true
        filter.afterSeq = Int64(Self.entries - 10)
        let (entries, cost) = try await steps(store) { [filter] in try $0.logEntries(filter, limit: 500) }
        XCTAssertEqual(entries.map(\.seq), Array(stride(from: Int64(Self.entries), to: Int64(Self.entries - 10), by: -3)), "log.viewed is every third entry")
        XCTAssertLessThan(cost, Self.bound)
    }

    /// What every `/metrics` scrape reads (referrals, disclosures by state) costs the same on a
    /// store of thousands of disclosures as on one of a few: no count over a table.
    func testAScrapesCountsAreReadWithoutAScan() async throws {
        let store = try await filledStore()
        defer { store.close() }
        let states: [DisclosureState] = [.queued, .awaitingConsent, .delivered, .refused]
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
            for referral in 0..<Self.entries / 3 {
                try txn.insertReferral(ReferralRecord(
                    id: "r\(referral)", partnerID: "p", referenceKey: Array("\(referral)".utf8), subjectID: "s", schemaID: "urn:x", bodyDigest: [0],
                    sealedBody: nil, receivedAt: txn.now, receipt: []
                ))
                for index in 0..<3 {
                    try txn.insertDisclosure(DisclosureRecord(
                        id: "d\(referral)-\(index)", referralID: "r\(referral)", subjectID: "s", recipientID: "x", service: "fraud",
                        state: states[(referral + index) % states.count], lawfulBasis: nil, consentID: nil, justificationDigest: nil, actor: "p",
                        pointers: [], categories: [], reason: nil, createdAt: txn.now, updatedAt: txn.now
                    ))
                }
            }
        }
        // Some move on, as delivery and consent move them.
        try await store.write { txn in
            for referral in 0..<100 {
                guard var disclosure = try txn.disclosure(id: "d\(referral)-0"), disclosure.state != .delivered else { continue }
                disclosure.state = .delivered
                try txn.updateDisclosure(disclosure)
            }
        }
        let (statistics, cost) = try await steps(store) { try $0.statistics() }
        let (counted, countCost) = try await steps(store) { txn in
            try txn.main.query("SELECT state, count(*) FROM disclosures GROUP BY state").reduce(into: [String: Int]()) { counts, row in
                counts[row.text(0) ?? ""] = Int(row.integer(1) ?? 0)
            }
        }
        XCTAssertEqual(statistics.disclosuresByState, counted, "the kept counts are the table's")
        XCTAssertEqual(statistics.disclosuresByState.values.reduce(0, +), Self.entries)
        XCTAssertEqual(statistics.referrals, Self.entries / 3)
        XCTAssertGreaterThan(countCost, Self.entries, "counting the table reads every row")
        XCTAssertLessThan(cost, Self.bound, "statistics ran \(cost) steps over \(Self.entries) disclosures")
    }

    /// A store from before the counts (migration 9) gets them counted from its rows once, at
    /// the first start of this refex; from then on they move with each change.
    func testAStoreFromBeforeTheCountsHasThemCountedAtTheMigration() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
            for referral in 0..<10 {
                try txn.insertReferral(ReferralRecord(
                    id: "r\(referral)", partnerID: "p", referenceKey: [UInt8(referral)], subjectID: "s", schemaID: "urn:x", bodyDigest: [0],
                    sealedBody: nil, receivedAt: txn.now, receipt: []
                ))
                try txn.insertDisclosure(DisclosureRecord(
                    id: "d\(referral)", referralID: "r\(referral)", subjectID: "s", recipientID: "x", service: "fraud",
                    state: referral < 7 ? .queued : .awaitingConsent, lawfulBasis: nil, consentID: nil, justificationDigest: nil, actor: "p",
                    pointers: [], categories: [], reason: nil, createdAt: txn.now, updatedAt: txn.now
                ))
            }
        }
        store.close()
        // As refex before migration 9 left it.
        let connection = try SQLiteConnection(path: "\(folder)/refex.db")
        try connection.execute(
            """
            DROP TRIGGER referrals_counted_in; DROP TRIGGER referrals_counted_out; DROP TRIGGER disclosures_counted_in;
            DROP TRIGGER disclosures_counted_moved; DROP TRIGGER disclosures_counted_out; DROP TABLE store_counts;
            DROP INDEX log_lawful_basis; PRAGMA user_version = 7;
            """
        )
        let migrated = try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
        defer { migrated.close() }
        XCTAssertEqual(try connection.first("PRAGMA user_version")?.integer(0).map(Int.init), StoreSchema.main.latestVersion)
        let counted = try await migrated.read { try $0.statistics() }
        XCTAssertEqual(counted, StoreStatistics(referrals: 10, disclosuresByState: ["queued": 7, "awaiting-consent": 3]))
        try await migrated.write { txn in
            guard var disclosure = try txn.disclosure(id: "d9") else { return XCTFail("d9 is stored") }
            disclosure.state = .queued
            try txn.updateDisclosure(disclosure)
        }
        let moved = try await migrated.read { try $0.statistics() }
        XCTAssertEqual(moved, StoreStatistics(referrals: 10, disclosuresByState: ["queued": 8, "awaiting-consent": 2]))
    }

    func testTheNewestCheckpointIsReadWithoutAScan() async throws {
        let store = try await filledStore()
        defer { store.close() }
        let (_, cost) = try await steps(store) { try $0.latestCheckpoint() }
        XCTAssertLessThan(cost, Self.bound)
    }
}
