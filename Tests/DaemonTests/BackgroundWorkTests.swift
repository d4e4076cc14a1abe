import Crypto
import Exchange
import Foundation
import Logging
import Synchronization
import TestSupport
import XCTest
@testable import Daemon
@testable import Store

/// Background work that the store's closing cuts short (refex stopping) ends quietly, saying it
/// resumes; a real failure still logs an error.
final class BackgroundWorkTests: XCTestCase {
    /// Forwards to a SQLite store and closes it once `writesBeforeClose` writes have committed, as
    /// a stop does under a backfill that is still running.
    private final class ClosingStore: ExchangeStore, Sendable {
        let store: SQLiteStore
        let writesBeforeClose: Int
        private let writes = Mutex(0)

        init(_ store: SQLiteStore, writesBeforeClose: Int) {
            self.store = store
            self.writesBeforeClose = writesBeforeClose
        }

        func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
            let result = try await store.write(body)
            if writes.withLock({ count -> Int in
                count += 1
                return count
            }) == writesBeforeClose {
                store.close()
            }
            return result
        }

        func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
            try await store.read(body)
        }
    }

    private func open(_ folder: String) throws -> SQLiteStore {
        try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
    }

    /// A store of `count` referrals from before the blind indexes (the backfill's cursor at the start).
    private func storeToBackfill(_ folder: String, count: Int) async throws {
        let store = try open(folder)
        defer { store.close() }
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
            for index in 0..<count {
                try txn.insertReferral(ReferralRecord(
                    id: String(format: "r%04d", index), partnerID: "p", referenceKey: Array("\(index)".utf8), subjectID: "s", schemaID: "urn:x",
                    bodyDigest: [0], sealedBody: [1], receivedAt: txn.now, receipt: []
                ))
            }
        }
    }

    private func errors(_ sink: InMemoryLogSink) -> [String] {
        sink.records.filter { $0.level >= .warning }.map(\.formatted)
    }

    func testABackfillCutShortByTheStoreClosingLogsThatItResumesNotAnError() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        try await storeToBackfill(folder, count: 450)
        let sink = InMemoryLogSink()
        // The writes: the referrals waiting for their entries (none), the first page of 200; then closed.
        let store = try open(folder)
        let exchange = Exchange(store: ClosingStore(store, writesBeforeClose: 2), catalog: .empty, keyring: Keyring(masterKey: .random()), recipients: [])
        await BackgroundWork.backfillSubjectIndex(exchange, logger: Logger(sink: sink, level: .debug))
        XCTAssertEqual(errors(sink), [], "a stop is not a failure")
        XCTAssertEqual(sink.records.map(\.message), ["subject index backfill stopped with refex; it resumes at the next start"])
        XCTAssertEqual(sink.records.first?.level, .info)

        // The next start carries on from the page it reached.
        let reopened = try open(folder)
        defer { reopened.close() }
        let cursor = try await reopened.read { try $0.subjectIndexBackfillCursor() }
        XCTAssertEqual(cursor, "r0199", "the first page committed with its place")
        let again = InMemoryLogSink()
        await BackgroundWork.backfillSubjectIndex(
            Exchange(store: reopened, catalog: .empty, keyring: Keyring(masterKey: .random()), recipients: []), logger: Logger(sink: again, level: .debug)
        )
        XCTAssertEqual(errors(again), [])
        let finished = try await reopened.read { try $0.subjectIndexBackfillCursor() }
        XCTAssertNil(finished, "the backfill finished")
    }

    func testWorkCancelledByItsServiceStoppingEndsQuietlyBetweenBatches() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        try await storeToBackfill(folder, count: 450)
        let store = try open(folder)
        defer { store.close() }
        let sink = InMemoryLogSink()
        let exchange = Exchange(store: store, catalog: .empty, keyring: Keyring(masterKey: .random()), recipients: [])
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await BackgroundWork.backfillSubjectIndex(exchange, logger: Logger(sink: sink, level: .debug))
        }
        await task.value
        XCTAssertEqual(errors(sink), [])
        XCTAssertEqual(sink.records.map(\.message), ["subject index backfill stopped with refex; it resumes at the next start"])
        let cursor = try await store.read { try $0.subjectIndexBackfillCursor() }
        XCTAssertEqual(cursor, "", "nothing was read once cancelled")
    }

    func testARealFailureIsStillAnError() {
        let sink = InMemoryLogSink()
        let logger = Logger(sink: sink, level: .debug)
        BackgroundWork.report(StoreError("the disk is full", kind: .unavailable), failed: "subject index backfill failed", stopped: "stopped", logger: logger)
        BackgroundWork.report(StoreError.storeClosed, failed: "checkpoint failed", stopped: "checkpoint by time not made", logger: logger)
        BackgroundWork.report(CancellationError(), failed: "retention run failed", stopped: "retention run stopped", logger: logger)
        XCTAssertEqual(sink.records.map(\.level), [.error, .info, .info])
        XCTAssertEqual(sink.records.map(\.message), ["subject index backfill failed", "checkpoint by time not made", "retention run stopped"])
        XCTAssertTrue(sink.records.first?.formatted.contains("the disk is full") == true)
    }
}
