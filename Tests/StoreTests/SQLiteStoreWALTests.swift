import Exchange
import Foundation
import Logging
import TestSupport
import XCTest
@testable import Store

/// The WAL under sustained writes (issue 17's fault): the checkpointer alone never finds the WAL
/// wholly folded in when a commit begins, so SQLite never started it again and the file grew by
/// every byte written. The writer's own fold between commits bounds it.
final class SQLiteStoreWALTests: XCTestCase {
    private static func walSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    }

    func testTheWALStaysBoundedUnderSustainedConcurrentWrites() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let path = "\(folder)/refex.db"
        let limit = 1 << 20
        let store = try SQLiteStore(path: path, keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()), walRestartBytes: limit)
        defer { store.close() }
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s", wrapped: [1]))
        }
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
}
