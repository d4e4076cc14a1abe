import Exchange
import Foundation
import Logging
import TestSupport
import SQLite
import XCTest
@testable import Store

/// The WAL under sustained writes (issue 17's fault): the checkpointer alone never finds the WAL
/// wholly folded in when a commit begins, so SQLite never started it again and the file grew by
/// every byte written. The writer's own fold between commits bounds it.
final class SQLiteStoreWALTests: XCTestCase {
    private static let limit = 1 << 20

    private static func walSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    }

    /// A store whose WAL starts again past `limit`, holding subject `s`; and its database's path.
    private static func storeWithOneSubject(limit: Int) async throws -> (SQLiteStore, String) {
        let folder = ProjectPaths.temporaryDirectory()
        let path = "\(folder)/refex.db"
        let store = try SQLiteStore(path: path, keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()), walRestartBytes: limit)
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
        }
        return (store, path)
    }

    func testTheWALStaysBoundedUnderSustainedConcurrentWrites() async throws {
        let limit = Self.limit
        let (store, path) = try await Self.storeWithOneSubject(limit: limit)
        defer { store.close() }
        // 48 MiB of 4 KiB rows from 16 writers at once: commits back to back, each a group.
        let payload = [UInt8](repeating: 0x5A, count: 4096)
        let peak = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    var largest = 0
                    for row in 0..<768 {
                        try await store.write { txn in
                            try txn.insertFreeText(digest: "w\(writer)-\(row)", subjectID: "s", sealed: payload)
                        }
                        largest = max(largest, Self.walSize(path))
                    }
                    return largest
                }
            }
            return try await group.reduce(0) { max($0, $1) }
        }
        // Bounded by the limit plus what commits in the 100 ms between folds, far below the 48 MiB
        // written (without the fold, the WAL held all of it).
        XCTAssertLessThan(peak, 16 << 20, "the WAL grew to \(peak) bytes")
        XCTAssertGreaterThan(peak, 0)
        let count = try await store.read { txn in try txn.freeText(digest: "w15-767") != nil }
        XCTAssertTrue(count, "every write committed")
    }

    /// How the WAL starts again: the checkpointer, having caught up, asks the writer to fold the
    /// last few commits once the WAL holds more than the limit (not once the file is twice it),
    /// and the next commit starts the WAL from its beginning in a file kept at its size (cutting
    /// the file at every restart held that commit up by 8-17 ms).
    func testTheCheckpointerAsksForTheFoldAndTheWALStartsAgainInAFileKeptAtItsSize() async throws {
        let limit = Self.limit
        let (store, path) = try await Self.storeWithOneSubject(limit: limit)
        defer { store.close() }
        let payload = [UInt8](repeating: 0x5A, count: 4096)
        var row = 0
        func writeRow() async throws {
            let digest = "r\(row)"
            row += 1
            try await store.write { txn in try txn.insertFreeText(digest: digest, subjectID: "s", sealed: payload) }
        }
        // One writer, one row a commit: past the limit, well short of twice it.
        while Self.walSize(path) <= limit + limit / 4 { try await writeRow() }
        XCTAssertLessThan(Self.walSize(path), 2 * limit)
        XCTAssertTrue(waitUntil(timeout: 20) { store.walFoldAskedForTesting }, "the checkpointer never asked for a fold")
        let sizeBefore = Self.walSize(path)
        try await writeRow()  // the writer folds after this commit (after answering it)
        XCTAssertTrue(waitUntil(timeout: 20) { !store.walFoldAskedForTesting }, "the writer did not take the fold it was asked for")
        try await writeRow()  // this commit starts the WAL again
        // The WAL now holds that one commit's frames, in a file that kept its size.
        let probe = try SQLiteConnection(path: path, mode: .readWriteExisting)
        let frames = try probe.first("PRAGMA wal_checkpoint(PASSIVE)")?.integer(1) ?? -1
        XCTAssertGreaterThan(frames, 0)
        XCTAssertLessThan(frames, 16, "the WAL did not start again from its beginning")
        XCTAssertGreaterThanOrEqual(Self.walSize(path), sizeBefore, "the WAL file was cut back")
        let lastDigest = "r\(row - 1)"
        let last = try await store.read { txn in try txn.freeText(digest: lastDigest) != nil }
        XCTAssertTrue(last)
    }
}
