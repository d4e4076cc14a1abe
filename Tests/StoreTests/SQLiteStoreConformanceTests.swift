import Exchange
import Logging
import Store
import TestSupport
import XCTest

/// The store conformance suite (TestSupport's `StoreConformance`) run against `SQLiteStore` in a
/// temporary folder; a restart closes the store and opens the same files again.
final class SQLiteStoreConformanceTests: XCTestCase {
    private let suite = StoreConformance { clock in
        let folder = ProjectPaths.temporaryDirectory("refex-conformance")
        return StoreHarness(
            open: {
                try SQLiteStore(
                    path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()), clock: clock.reading
                )
            },
            close: { store in (store as? SQLiteStore)?.close() }
        )
    }

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
