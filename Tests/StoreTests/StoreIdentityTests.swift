import Crypto
import Exchange
import Foundation
import Logging
import SQLite
import TestSupport
import XCTest
@testable import Store

/// The store knows its two files and its master key, is created only when allowed, reads a copy
/// without changing it, and comes back by itself from a full disk.
final class StoreIdentityTests: XCTestCase {
    private let logger = Logger(sink: InMemoryLogSink())

    private func open(_ folder: String, key: SymmetricKey?, creation: SQLiteStore.Creation = .whenBothMissing, reserve: Int = 0) throws -> SQLiteStore {
        try SQLiteStore(
            path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db", logger: logger, masterKey: key, creation: creation,
            reserveBytes: reserve
        )
    }

    private func kind(of error: any Error) -> StoreError.Kind? { (error as? StoreError)?.kind }

    func testBothFilesNameOneStoreAndTheKeyIsCheckedWithoutBeingStored() throws {
        let folder = ProjectPaths.temporaryDirectory()
        let key = SymmetricKey.random()
        try open(folder, key: key).close()
        let main = try SQLiteConnection(path: "\(folder)/refex.db", mode: .readOnly)
        let keys = try SQLiteConnection(path: "\(folder)/refex-keys.db", mode: .readOnly)
        let recorded = try XCTUnwrap(try StoreIdentity.read(main))
        XCTAssertEqual(try StoreIdentity.read(keys), recorded)
        XCTAssertEqual(recorded.keyCheck, StoreIdentity.keyCheck(masterKey: key, storeID: recorded.storeID))
        XCTAssertNotEqual(recorded.keyCheck, key.bytes.hexString)
        XCTAssertNotEqual(recorded.keyCheck, SHA256.hash(key.bytes).hexString)
        // Another store under the same key has another check value.
        XCTAssertNotEqual(StoreIdentity.keyCheck(masterKey: key, storeID: "other"), recorded.keyCheck)

        XCTAssertNoThrow(try open(folder, key: key).close())
        XCTAssertThrowsError(try open(folder, key: .random())) { error in
            XCTAssertEqual(kind(of: error), .identity)
            XCTAssertTrue("\(error)".contains("master key"), "\(error)")
        }
        XCTAssertThrowsError(try SQLiteStore.checkIdentity(path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db", masterKey: .random()))
        XCTAssertNoThrow(try SQLiteStore.checkIdentity(path: "\(folder)/refex.db", keysPath: "\(folder)/refex-keys.db", masterKey: key))
    }

    /// A store made before identities: adopted when the key opens one of its subject keys.
    func testAStoreWithoutIdentityIsAdoptedOnlyUnderItsOwnKey() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let key = SymmetricKey.random()
        let store = try open(folder, key: key)
        let (_, wrapped) = try Keyring(masterKey: key).newSubjectKey(subjectID: "s1")
        try await store.write { txn in try txn.insertSubject(SubjectRecord(id: "s1", createdAt: txn.now), key: wrapped) }
        store.close()
        // As the identity migration (the fourth of the main file, the last of the keys file) found
        // them: the main file's later migration (outbox claims) undone too.
        for (name, undo) in [
            ("refex.db", "DROP TABLE subject_index_pending; ALTER TABLE outbox DROP COLUMN lease_holder; ALTER TABLE outbox DROP COLUMN lease_until; PRAGMA user_version = 3;"),
            ("refex-keys.db", "PRAGMA user_version = \(StoreSchema.keys.latestVersion - 1);"),
        ] {
            let connection = try SQLiteConnection(path: "\(folder)/\(name)")
            try connection.execute("DROP TABLE store_identity; \(undo)")
        }
        XCTAssertThrowsError(try open(folder, key: .random())) { error in
            XCTAssertEqual(kind(of: error), .identity)
            XCTAssertTrue("\(error)".contains("does not open the subject keys"), "\(error)")
        }
        try open(folder, key: key).close()
        let main = try SQLiteConnection(path: "\(folder)/refex.db", mode: .readOnly)
        let keys = try SQLiteConnection(path: "\(folder)/refex-keys.db", mode: .readOnly)
        XCTAssertEqual(try StoreIdentity.read(main), try StoreIdentity.read(keys))
        XCTAssertNotNil(try StoreIdentity.read(main))
        XCTAssertThrowsError(try open(folder, key: .random()))
    }

    func testAMissingHalfIsRefusedAndNotRecreated() throws {
        let key = SymmetricKey.random()
        for missing in ["refex.db", "refex-keys.db"] {
            let folder = ProjectPaths.temporaryDirectory()
            try open(folder, key: key).close()
            for extra in ["", "-wal", "-shm", "-journal"] { unlink("\(folder)/\(missing)\(extra)") }
            XCTAssertThrowsError(try open(folder, key: key)) { error in
                XCTAssertEqual(kind(of: error), .missing)
                XCTAssertTrue("\(error)".contains("\(folder)/\(missing)") && "\(error)".contains("restore both"), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/\(missing)"))
        }
        let empty = ProjectPaths.temporaryDirectory()
        XCTAssertThrowsError(try open(empty, key: key, creation: .never)) { XCTAssertEqual(kind(of: $0), .missing) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty), [])
    }

    func testAHalfOfAnotherStoreIsRefused() throws {
        let key = SymmetricKey.random()
        let (first, second) = (ProjectPaths.temporaryDirectory(), ProjectPaths.temporaryDirectory())
        try open(first, key: key).close()
        try open(second, key: key).close()
        unlink("\(first)/refex-keys.db")
        try FileManager.default.copyItem(atPath: "\(second)/refex-keys.db", toPath: "\(first)/refex-keys.db")
        XCTAssertThrowsError(try open(first, key: key)) { error in
            XCTAssertEqual(kind(of: error), .identity)
            XCTAssertTrue("\(error)".contains("two different stores"), "\(error)")
        }
    }

    func testACopyIsReadWithoutChangingItAndItsReadingsGoToTheLiveStore() async throws {
        let folder = ProjectPaths.temporaryDirectory()
        let store = try open(folder, key: .random())
        try await store.write { txn in
            _ = try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p"))
        }
        store.close()
        let copyFolder = ProjectPaths.temporaryDirectory()
        for name in ["refex.db", "refex-keys.db"] {
            try FileManager.default.copyItem(atPath: "\(folder)/\(name)", toPath: "\(copyFolder)/\(name)")
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: copyFolder).sorted()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(copyFolder)/refex.db"))

        let live = try open(ProjectPaths.temporaryDirectory(), key: .random())
        let copy = try SQLiteStore(copyAt: "\(copyFolder)/refex.db", keysPath: "\(copyFolder)/refex-keys.db", logger: logger, recordingReadsIn: live)
        XCTAssertTrue(copy.isReadOnlyCopy)
        let seen = try await copy.read { txn in try txn.logBounds()?.last }
        XCTAssertEqual(seen, 1)
        // A reading's entry goes to the live store; any other change is refused.
        try await copy.write { txn in _ = try txn.appendLog(LogEntryDraft(event: .logViewed, actor: "auditor")) }
        let liveLast = try await live.read { txn in try txn.logBounds()?.last }
        XCTAssertEqual(liveLast, 1)
        do {
            try await copy.write { txn in try txn.setRestricted(subjectID: "x", true) }
            XCTFail("a copy was written")
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .readOnlyCopy)
        }
        live.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: copyFolder).sorted(), before, "a file was created beside the copy")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(copyFolder)/refex.db")), bytes)
    }

    /// On a real full file system (a 2 MiB tmpfs; needs root): the failed commit leaves both
    /// connections clean, writes fail as `unavailable`, and the store recovers by itself.
    func testAFullDiskFailsWritesCleanlyAndRecoversWithoutReopening() async throws {
        let mount = ProjectPaths.temporaryDirectory("refex-tmpfs")
        guard try Subprocess.run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]).status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root)")
        }
        defer { _ = try? Subprocess.run("umount", ["-l", mount]) }
        let store = try open(mount, key: .random())
        defer { store.close() }
        _ = try Subprocess.run("dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=16k"])
        let blob = [UInt8](repeating: 0x5A, count: 16 << 10)
        var failure: StoreError?
        for index in 0..<64 where failure == nil {
            do {
                try await store.write { txn in
                    try txn.insertSubject(SubjectRecord(id: "s\(index)", createdAt: txn.now), key: WrappedSubjectKey(subjectID: "s\(index)", wrapped: blob))
                }
            } catch let error as StoreError {
                failure = error
            }
        }
        let full = try XCTUnwrap(failure, "the disk never filled")
        XCTAssertEqual(full.kind, .unavailable)
        XCTAssertNotNil(store.problem)
        // Every later write fails the same clean way, never "within a transaction".
        do {
            try await store.write { txn in _ = try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        } catch {
            XCTAssertFalse("\(error)".contains("within a transaction"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: "\(mount)/filler")
        let deadline = ContinuousClock.now + .seconds(20)
        while store.problem != nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        XCTAssertNil(store.problem, "the store did not recover by itself")
        let entry = try await store.write { txn in try txn.appendLog(LogEntryDraft(event: .referralReceived, actor: "p")) }
        XCTAssertGreaterThan(entry.seq, 0)
    }
}
