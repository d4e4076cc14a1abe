import JSON
import TestSupport
import XCTest

/// `refex backup`: a consistent online copy of the store and its keys while refex serves.
///
/// SQLite-specific throughout: a backup is the store's two files, checked as files.
final class BackupTests: XCTestCase {
    override func setUpWithError() throws {
        try sqliteOnly()
    }

    /// Inspects a backed-up SQLite file directly (see `SQLiteFiles`).
    private func sqlite(_ database: String, _ sql: String) throws -> String {
        try SQLiteFiles.run(database, sql)
    }

    private func referralTemplate() throws -> String {
        let path = ProjectPaths.temporaryDirectory() + "/referral.json"
        try FileManager.default.copyItem(atPath: "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json", toPath: path)
        return path
    }

    func testBackupDuringLoadOpensVerifiesAndServes() throws {
        let total = 1200
        let refex = try RefexProcess()
        let burst = try InteractiveProcess("python3", [
            "\(ProjectPaths.root)/Tests/scripts/burst.py", "--port", String(refex.apiPort), "--ca", try TestPKI.certificate("ca"),
            "--cert", try TestPKI.certificate("police"), "--key", try TestPKI.key("police"), "--template", try referralTemplate(),
            "--count", String(total), "--concurrency", "8", "--prefix", "BACKUP",
        ])
        var acknowledged: [String] = []
        func take(_ line: String) {
            if let answer = try? JSONValue.parse(line), answer["status"]?.int64Value == 202, let id = answer["id"]?.stringValue {
                acknowledged.append(id)
            }
        }
        while acknowledged.count < 60, let line = burst.readLine(timeout: 60) { take(line) }
        let before = acknowledged

        // While the burst goes on.
        let destination = ProjectPaths.temporaryDirectory("refex-backup")
        let backup = try Subprocess.run(ProjectPaths.refexBinary, ["backup", destination, "--config", refex.configPath], timeout: 120)
        XCTAssertEqual(backup.status, 0, backup.errorOutput)
        let during = acknowledged.count
        while let line = burst.readLine(timeout: 120) { take(line) }
        XCTAssertEqual(acknowledged.count, total, "refex stopped answering during the backup")
        XCTAssertLessThan(during, total, "the burst was over before the backup ended: not a backup under load")

        // Two files, the owner's alone, each one self-contained (no journal, WAL or shared memory beside it).
        let copy = "\(destination)/refex.db"
        let keys = "\(destination)/refex-keys.db"
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: destination)), ["refex.db", "refex-keys.db"])
        for file in [copy, keys] {
            let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) ?? -1
            XCTAssertEqual(mode, 0o600, file)
            XCTAssertEqual(try sqlite(file, "PRAGMA integrity_check"), "ok", file)
            XCTAssertEqual(try sqlite(file, "PRAGMA journal_mode"), "delete", file)
        }

        // The disclosure log chain of the copy verifies, independently of refex.
        let verified = try JSONValue.parse(try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/verify_log.py", copy]).output)
        XCTAssertEqual(verified["problems"], [])
        let received = verified["events"]?["referral.received"]?.int64Value ?? 0
        XCTAssertGreaterThanOrEqual(received, Int64(before.count), "acknowledged before the backup began, so in it")
        XCTAssertLessThan(received, Int64(total), "the copy is of a moment during the burst")
        // Every subject in the copy has its key in the copied keys.
        let keyless = try sqlite(keys, "ATTACH '\(copy)' AS data; SELECT count(*) FROM data.subjects s LEFT JOIN subject_keys k ON k.subject_id = s.id WHERE k.subject_id IS NULL AND s.erased_at IS NULL")
        XCTAssertEqual(keyless, "0")
        XCTAssertTrue(backup.output.contains("disclosure log: \(verified["count"]?.int64Value ?? -1) entries"), backup.output)

        // Restored, it serves: refex starts on the copy and knows what was acknowledged before the backup.
        let restored = ProjectPaths.temporaryDirectory("refex-restored")
        for name in ["refex.db", "refex-keys.db"] {
            try FileManager.default.copyItem(atPath: "\(destination)/\(name)", toPath: "\(restored)/\(name)")
        }
        let second = try RefexProcess(config: try RefexProcess.config(["store": ["path": .string("\(restored)/refex.db")]]))
        for id in before.prefix(5) {
            XCTAssertEqual(try Curl.request(["\(second.baseURL)/v1/referrals/\(id)"], as: "police").response?.status, 200, id)
        }
        XCTAssertEqual(try Curl.request(["\(second.baseURL)/v1/referrals/\(try XCTUnwrap(acknowledged.last))"], as: "police").response?.status, 404)
    }

    func testDestinationIsAFolderOrANewFileAndNothingIsOverwritten() throws {
        let refex = try RefexProcess()
        let folder = ProjectPaths.temporaryDirectory("refex-backup")
        let file = "\(folder)/monday.db"
        let first = try Subprocess.run(ProjectPaths.refexBinary, ["backup", file, "--store", refex.storePath])
        XCTAssertEqual(first.status, 0, first.errorOutput)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)), ["monday.db", "monday-keys.db"])

        let again = try Subprocess.run(ProjectPaths.refexBinary, ["backup", file, "--store", refex.storePath])
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.errorOutput, "refex backup: \(file) already exists: give a new name or an empty folder (a backup never overwrites)\n")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)), ["monday.db", "monday-keys.db"], "no partial file left")

        let nowhere = try Subprocess.run(ProjectPaths.refexBinary, ["backup", "/nonexistent/monday.db", "--config", refex.configPath])
        XCTAssertEqual(nowhere.status, 1)
        XCTAssertEqual(nowhere.errorOutput, "refex backup: the folder /nonexistent does not exist\n")

        let noStore = try Subprocess.run(ProjectPaths.refexBinary, ["backup", folder + "/x.db", "--store", folder + "/missing.db"])
        XCTAssertEqual(noStore.status, 1)
        XCTAssertEqual(noStore.errorOutput, "refex backup: there is no store file at \(folder)/missing.db\n")

        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["backup"]).status, 2)
    }
}
