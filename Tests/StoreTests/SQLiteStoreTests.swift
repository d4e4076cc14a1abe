import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

final class SQLiteStoreTests: XCTestCase {
    private func open(_ folder: String = ProjectPaths.temporaryDirectory()) throws -> SQLiteStore {
        try SQLiteStore(path: "\(folder)/refex.db", keysPath: "\(folder)/keys.db", logger: Logger(sink: InMemoryLogSink()))
    }

    struct Boom: Error {}

    func testConcurrentWritesShareCommitsAndAFailingOneIsRolledBackAlone() async throws {
        let store = try open()
        defer { store.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    do {
                        try await store.write { txn in
                            try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p", referralID: "r\(index)"))
                            if index % 10 == 0 { throw Boom() }
                        }
                    } catch is Boom {}
                }
            }
            try await group.waitForAll()
        }
        let entries = try await store.write { txn -> Int64 in
            try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "admin")).seq
        }
        XCTAssertEqual(entries, 91, "90 successful writes then this one; the failed ones left no entry and no gap")
    }

    func testTheChainContinuesAcrossReopening() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try open(folder)
        let first = try await store.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        store.close()
        let reopened = try open(folder)
        defer { reopened.close() }
        let second = try await reopened.write { try $0.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        XCTAssertEqual(second.seq, first.seq + 1)
        XCTAssertEqual(second.prevHash, first.hash)
    }

    func testANewerDatabaseIsRefused() throws {
        let folder = ProjectPaths.temporaryDirectory()
        try open(folder).close()
        let connection = try SQLiteConnection(path: "\(folder)/refex.db")
        try connection.execute("PRAGMA user_version = 99")
        XCTAssertThrowsError(try open(folder)) { error in
            XCTAssertTrue("\(error)".contains("newer than this refex"), "\(error)")
        }
    }

    func testErasureRemovesTheKeyAndEverySealedBody() async throws {
        let store = try open()
        defer { store.close() }
        let now = Timestamp(milliseconds: 1)
        try await store.write { txn in
            try txn.insertSubject(SubjectRecord(id: "s", createdAt: now), key: WrappedSubjectKey(subjectID: "s", wrapped: [1, 2, 3]))
            try txn.insertReferral(ReferralRecord(id: "r", partnerID: "p", referenceKey: [1], subjectID: "s", schemaID: "x",
                                                  bodyDigest: [2], sealedBody: [9, 9, 9], receivedAt: now, receipt: []))
        }
        try await store.write { txn in try txn.eraseSubject(id: "s", at: now) }
        let (key, referral, subject) = try await store.write { txn in
            (try txn.subjectKey(subjectID: "s"), try txn.referral(id: "r"), try txn.subject(id: "s"))
        }
        XCTAssertNil(key)
        XCTAssertNil(referral?.sealedBody)
        XCTAssertEqual(subject?.erasedAt, now)
    }

    func testWritesAfterCloseFail() async throws {
        let store = try open()
        store.close()
        do {
            _ = try await store.write { _ in 1 }
            XCTFail("a closed store accepted a write")
        } catch is StoreError {}
    }
}
