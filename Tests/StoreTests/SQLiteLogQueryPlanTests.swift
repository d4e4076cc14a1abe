import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// Every filtered read of the disclosure log finds its entries through an index, never by reading
/// the whole log (the console and `refex log list` run on logs of millions of entries): the SQL
/// the store actually runs for each filter is recorded and SQLite's plan for it checked
/// (`EXPLAIN QUERY PLAN`). A schema change that leaves a filter without its index fails here.
final class SQLiteLogQueryPlanTests: XCTestCase {
    private var store: SQLiteStore?

    override func tearDown() {
        store?.close()
        super.tearDown()
    }

    private func openStore() async throws -> SQLiteStore {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
        self.store = store
        // A few entries of each shape, so that the plans are made on a log that is not empty.
        try await store.write { txn in
            for index in 0..<50 {
                _ = try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "police", referralID: "r\(index)", subjectID: "s\(index)"))
                _ = try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "dpo"))
            }
        }
        return store
    }

    /// The statements `body` runs on the store's reading connection, and SQLite's plan for each.
    private func plans(
        _ store: SQLiteStore, _ body: @escaping @Sendable (any StoreTransaction) throws -> Void
    ) async throws -> [(sql: String, plan: [String])] {
        try await store.read { txn in
            guard let sqlite = txn as? SQLiteTransaction else { throw StoreError("not a SQLite transaction") }
            sqlite.main.recordedSQL = []
            defer { sqlite.main.recordedSQL = nil }
            try body(txn)
            let statements = sqlite.main.recordedSQL ?? []
            sqlite.main.recordedSQL = nil
            return try statements.map { sql in
                // Unbound parameters are NULL: the plan does not depend on the values.
                let plan = try sqlite.main.query("EXPLAIN QUERY PLAN \(sql)").map { $0.text(3) ?? "" }
                return (sql, plan)
            }
        }
    }

    /// Asserts that every statement reads `log_entries` by a search on `index` (or on one of
    /// `alternatives`), and nowhere by a scan of the whole table.
    private func assertSearches(
        _ found: [(sql: String, plan: [String])], _ indexes: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        let onLog = found.filter { $0.sql.contains("FROM log_entries") }
        XCTAssertFalse(onLog.isEmpty, "no query on the log was run", file: file, line: line)
        for (sql, plan) in onLog {
            let text = plan.joined(separator: " | ")
            XCTAssertFalse(plan.contains { $0.hasPrefix("SCAN log_entries") }, "a full scan of the log: \(text)\n\(sql)", file: file, line: line)
            XCTAssertTrue(
                indexes.contains { index in plan.contains { $0.hasPrefix("SEARCH log_entries USING") && $0.contains(index) } },
                "not searched through \(indexes.joined(separator: " or ")): \(text)\n\(sql)", file: file, line: line
            )
        }
    }

    func testEachLogFilterIsSearchedThroughItsIndexInEitherOrderAndWhenPaging() async throws {
        let store = try await openStore()
        let cases: [(String, [String], (inout LogFilter) -> Void)] = [
            ("subject", ["log_subject"], { $0.subjectID = "s1" }),
            ("referral", ["log_referral"], { $0.referralID = "r1" }),
            ("recipient", ["log_recipient"], { $0.recipientID = "dv-support" }),
            ("event", ["log_event"], { $0.event = "referral.received" }),
            ("actor", ["log_actor"], { $0.actor = "police" }),
            ("disclosure", ["log_disclosure"], { $0.disclosureID = "d1" }),
            // Paging within a range: from the page's cursor along the primary key.
            ("time range", ["log_time", "INTEGER PRIMARY KEY"], { $0.since = Timestamp(milliseconds: 1); $0.until = Timestamp(milliseconds: 2) }),
            // One side of a time range only (`log list --since` or `--until`): the time index, or
            // the page's cursor along the primary key; never a scan from one end of the log.
            ("since only", ["log_time", "INTEGER PRIMARY KEY"], { $0.since = Timestamp(milliseconds: 1) }),
            ("until only", ["log_time", "INTEGER PRIMARY KEY"], { $0.until = Timestamp(milliseconds: 2) }),
            ("since only, some excluded", ["log_time", "INTEGER PRIMARY KEY"], {
                $0.since = Timestamp(milliseconds: 1); $0.excludedEvents = ["log.viewed"]
            }),
            ("lawful basis", ["log_lawful_basis"], { $0.lawfulBasis = "vital-interests" }),
            ("lawful basis since", ["log_lawful_basis", "log_time"], { $0.lawfulBasis = "vital-interests"; $0.since = Timestamp(milliseconds: 1) }),
            ("lawful basis in a time range", ["log_lawful_basis", "log_time"], {
                $0.lawfulBasis = "public-task"; $0.since = Timestamp(milliseconds: 1); $0.until = Timestamp(milliseconds: 2)
            }),
            ("subject and event", ["log_subject", "log_event"], { $0.subjectID = "s1"; $0.event = "referral.received" }),
            ("recipient in a time range", ["log_recipient", "log_time"], {
                $0.recipientID = "dv-support"; $0.since = Timestamp(milliseconds: 1); $0.until = Timestamp(milliseconds: 2)
            }),
            ("event, some excluded", ["log_event"], { $0.event = "disclosure.authorised"; $0.excludedEvents = ["log.viewed"] }),
            ("actor, some excluded", ["log_actor"], { $0.actor = "police"; $0.excludedEvents = ["log.viewed", "subject.searched"] }),
        ]
        for (name, indexes, change) in cases {
            for newestFirst in [false, true] {
                for paging in [0, 1, 2] {
                    var filter = LogFilter()
                    change(&filter)
                    filter.newestFirst = newestFirst
                    if paging == 1 { filter.afterSeq = 10 }
                    if paging == 2 { filter.beforeSeq = 90 }
                    let query = filter
                    let found = try await plans(store) { txn in _ = try txn.logEntries(query, limit: 50) }
                    assertSearches(found, indexes)
                    if found.isEmpty { XCTFail("\(name): nothing run") }
                }
            }
        }
    }

    func testTheConsolesCountsReadATimeRangeOrWhatFollowsASeq() async throws {
        let store = try await openStore()
        let events = ["referral.received", "disclosure.authorised", "disclosure.withheld"]
        let ranged = try await plans(store) { txn in
            _ = try txn.logEventCounts(
                since: Timestamp(milliseconds: 1), until: Timestamp(milliseconds: 2), afterSeq: nil, events: events, utcOffsetMilliseconds: 0
            )
        }
        assertSearches(ranged, ["log_time"])
        let following = try await plans(store) { txn in
            _ = try txn.logEventCounts(
                since: Timestamp(milliseconds: 1), until: Timestamp(milliseconds: 2), afterSeq: 40, events: events, utcOffsetMilliseconds: 0
            )
        }
        assertSearches(following, ["INTEGER PRIMARY KEY"])
    }

    func testTheFilterChoicesReadOnlyTheirIndex() async throws {
        let store = try await openStore()
        for (column, index) in [(LogValueColumn.recipient, "log_recipient"), (.actor, "log_actor")] {
            let found = try await plans(store) { txn in _ = try txn.distinctLogValues(column) }
            let plan = found.flatMap(\.plan).joined(separator: " | ")
            XCTAssertTrue(found.flatMap(\.plan).contains { $0.contains("USING COVERING INDEX \(index)") }, "\(column): \(plan)")
        }
    }

    func testAConsentGivenAgainIsFoundThroughItsDocumentsIndex() async throws {
        let store = try await openStore()
        let found = try await plans(store) { txn in _ = try txn.consent(referralID: "r1", documentDigest: [1, 2, 3]) }
        let plan = found.flatMap(\.plan)
        XCTAssertTrue(plan.contains { $0.hasPrefix("SEARCH consents USING INDEX consents_document") }, plan.joined(separator: " | "))
    }

    /// `log verify` checks every row against the log: each row's entry is looked up through an
    /// index (the rows are read in full; the log is not read once per row).
    func testTheCompletenessCheckLooksUpEachRowsEntryThroughAnIndex() async throws {
        let store = try await openStore()
        let found = try await plans(store) { txn in _ = try txn.logCompletenessProblems(prunedUpTo: nil, limit: 10) }
        let lookups = found.filter { $0.sql.contains("NOT EXISTS (SELECT 1 FROM log_entries l") }
        XCTAssertEqual(lookups.count, LogCompleteness.required.count)
        for (sql, plan) in lookups {
            let text = plan.joined(separator: " | ")
            XCTAssertFalse(plan.contains { $0.hasPrefix("SCAN l") }, "the log read once per row: \(text)\n\(sql)")
            XCTAssertTrue(plan.contains { $0.hasPrefix("SEARCH l USING") && $0.contains("INDEX log_") }, "\(text)\n\(sql)")
        }
    }
}
