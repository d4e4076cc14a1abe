import TestSupport
import XCTest

/// The store conformance suite run against the in-memory store (TestSupport's `InMemoryStore`), so
/// that the in-process domain tests stand on a store that behaves as SQLite does; a restart opens a
/// new store over the same `InMemoryStoreState`.
final class InMemoryStoreConformanceTests: XCTestCase {
    private let suite = StoreConformance { clock in StoreHarness.inMemory(clock: clock) }

    func testConcurrentWritesCommitTogetherAndAFailingOneIsRolledBackAlone() async throws { try await suite.groupCommitRollsBackAFailingWriteAlone() }

    func testReadsSeeOnlyCommittedStateAndChangeNothing() async throws { try await suite.readsSeeOnlyCommittedStateAndChangeNothing() }

    func testTheChainContinuesAcrossRestarts() async throws { try await suite.chainContinuesAcrossRestarts() }

    func testTheChainContinuesAfterTheWholeLogIsPruned() async throws { try await suite.chainContinuesAfterTheWholeLogIsPruned() }

    func testRecordsKeepWhatWasWrittenAndConstraintsHold() async throws { try await suite.recordsKeepWhatWasWrittenAndConstraintsHold() }

    func testErasureShredsTheSubjectAndNoOneElse() async throws { try await suite.erasureShredsTheSubjectAndNoOneElse() }

    func testLogCompletenessNamesWhatIsMissing() async throws { try await suite.logCompletenessNamesWhatIsMissing() }

    func testOutboxDueItemsAndMailboxPaging() async throws { try await suite.outboxDueItemsAndMailboxPaging() }

    func testOutboxClaimsHoldUntilTheLeaseEnds() async throws { try await suite.outboxClaimsHoldUntilTheLeaseEnds() }

    func testEveryLogFilterSelectsByItsColumn() async throws { try await suite.everyLogFilterSelectsByItsColumn() }

    func testLogEventCountsByDayRecipientAndBasis() async throws { try await suite.logEventCountsByDayRecipientAndBasis() }

    func testFindingByPrefixAndBlindIndex() async throws { try await suite.findingByPrefixAndBlindIndex() }

    func testRetentionQueriesAndPruning() async throws { try await suite.retentionQueriesAndPruning() }
}
