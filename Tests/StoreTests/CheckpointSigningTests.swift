import Crypto
import Exchange
import Foundation
import Logging
import Synchronization
import TestSupport
import XCTest
@testable import Store

/// The store calls the log's signing policy (Exchange's `CheckpointPolicy`) once in every commit:
/// checkpoints land every N entries, on the first commit with entries, and by time.
final class CheckpointSigningTests: XCTestCase {
    func testCheckpointsAreSignedEveryNEntriesAndByTimeInTheCommitOfTheirEntries() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let key = try Ed25519PrivateKey()
        let now = Mutex<Int64>(1_800_000_000_000)
        let store = try SQLiteStore(
            path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db", logger: Logger(sink: InMemoryLogSink()),
            checkpoints: CheckpointPolicy(everyEntries: 5, every: .seconds(60), key: key),
            clock: { Timestamp(milliseconds: now.withLock { $0 }) }
        )
        defer { store.close() }
        for _ in 1...12 {
            try await store.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        }
        var signed = try await store.read { try $0.checkpoints() }
        XCTAssertEqual(signed.map(\.seq), [1, 6, 11], "the first commit with entries, then every 5 entries")
        XCTAssertTrue(signed.allSatisfy { $0.isSigned(by: key.publicKey) })
        let heads = try await store.read { txn in try [1, 6, 11].map { try txn.logEntry(seq: $0)?.hash } }
        XCTAssertEqual(signed.map(\.hash), heads)

        // Nothing new is signed before the interval, however often a commit asks.
        try await store.checkpointIfDue()
        let early = try await store.read { try $0.checkpoints() }
        XCTAssertEqual(early.map(\.seq), [1, 6, 11])
        now.withLock { $0 += 60_000 }
        try await store.checkpointIfDue()
        signed = try await store.read { try $0.checkpoints() }
        XCTAssertEqual(signed.map(\.seq), [1, 6, 11, 12], "due by time: the head is signed with no new write")
        XCTAssertEqual(signed.last?.time, Timestamp(milliseconds: 1_800_000_060_000))
        // With no new entry, time alone signs nothing more.
        now.withLock { $0 += 600_000 }
        try await store.checkpointIfDue()
        let idle = try await store.read { try $0.checkpoints() }
        XCTAssertEqual(idle.count, 4)
    }

    func testAWriteThatFailsLeavesNoCheckpointOfItsEntries() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try SQLiteStore(
            path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db", logger: Logger(sink: InMemoryLogSink()),
            checkpoints: CheckpointPolicy(everyEntries: 1, every: .seconds(3600), key: try Ed25519PrivateKey())
        )
        defer { store.close() }
        struct Refused: Error {}
        do {
            try await store.write { txn in
                try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p"))
                throw Refused()
            }
            XCTFail("the write should fail")
        } catch is Refused {}
        let none = try await store.read { try $0.checkpoints() }
        XCTAssertEqual(none.count, 0, "the rolled-back entry is not signed")
        try await store.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        let first = try await store.read { try $0.checkpoints() }
        XCTAssertEqual(first.map(\.seq), [1])
    }
}
