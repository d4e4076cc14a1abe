import Foundation
import JSON
import TestSupport
import XCTest

/// A full disk is a pause, not an outage: on a real, small file system (a tmpfs mounted for the
/// test, which needs root; skipped otherwise), refex answers 503 with Retry-After (never 500),
/// still stores an erasure on its reserve, says why in /readyz, withholds the watchdog ping, and
/// accepts again by itself once space is freed, having lost nothing it acknowledged.
///
/// SQLite-specific: the store's files sit on the small file system, with their reserve file.
final class DiskFullTests: XCTestCase {
    override func setUpWithError() throws {
        try sqliteOnly()
    }

    private func referralFile(reference: String) throws -> String {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return "" }
        object["referenceId"] = .string(reference)
        let file = ProjectPaths.temporaryDirectory() + "/r.json"
        try Data(JSONValue.object(object).serialized()).write(to: URL(fileURLWithPath: file))
        return file
    }

    private func post(_ refex: RefexProcess, reference: String) throws -> ClientResponse? {
        try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(try referralFile(reference: reference))",
             "\(refex.baseURL)/v1/referrals"], as: "police"
        ).response
    }

    private func readiness(_ refex: RefexProcess) throws -> (status: String, body: String) {
        let result = try Subprocess.run("curl", ["-s", "-w", "\n%{http_code}", "\(refex.opsURL)/readyz"])
        let lines = result.output.split(separator: "\n")
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    func testAFullDiskIsAPauseNotAnOutage() throws {
        let mount = ProjectPaths.temporaryDirectory("refex-tmpfs")
        let mounted = try Subprocess.run("mount", ["-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", mount])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root): \(mounted.errorOutput)") }
        defer { _ = try? Subprocess.run("umount", ["-l", mount]) }

        var config = try RefexProcess.config()
        config["store"] = ["path": .string("\(mount)/refex.db")]
        let refex = try RefexProcess(config: config, environment: ["WATCHDOG_USEC": "2000000", "REFEX_STORE_RESERVE_BYTES": String(4 << 20)])
        defer { refex.stop() }
        XCTAssertTrue(refex.notify.wait(forCount: 2, ofLine: "WATCHDOG=1", timeout: 20), "no pings while healthy")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(mount)/refex.db.reserve"), "no reserve beside the store")
        let early = try XCTUnwrap(try post(refex, reference: "FULL-EARLY"))
        XCTAssertEqual(early.status, 202)
        let earlySubject = try XCTUnwrap(early.json?["subjectId"]?.stringValue)

        // Fill the file system, then put refex under load.
        let filled = try Subprocess.run("dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=64k"], timeout: 60)
        XCTAssertTrue(filled.errorOutput.contains("No space left"), filled.errorOutput)
        let template = try referralFile(reference: "FULL-TEMPLATE")
        let burst = try Subprocess.run("python3", [
            "\(ProjectPaths.root)/Tests/scripts/burst.py", "--port", String(refex.apiPort), "--ca", try TestPKI.certificate("ca"),
            "--cert", try TestPKI.certificate("police"), "--key", try TestPKI.key("police"), "--template", template,
            "--count", "300", "--concurrency", "8", "--prefix", "FULL",
        ], timeout: 240)
        XCTAssertEqual(burst.status, 0, burst.errorOutput)
        var acknowledged: [String] = []
        var statuses: [Int64: Int] = [:]
        for line in burst.output.split(separator: "\n") {
            let answer = try JSONValue.parse(Array(line.utf8))
            let status = answer["status"]?.int64Value ?? -1
            statuses[status, default: 0] += 1
            if status == 202, let id = answer["id"]?.stringValue { acknowledged.append(id) }
            if status == 503 { XCTAssertNotNil(answer["retryAfter"]?.stringValue, "a 503 without Retry-After") }
        }
        XCTAssertEqual(Set(statuses.keys).subtracting([202, 503]), [], "answers other than 202 and 503: \(statuses)")
        XCTAssertGreaterThan(statuses[503] ?? 0, 0, "the disk never filled: \(statuses)")
        XCTAssertTrue(refex.logText.contains("the disk is full: released the reserve"), refex.logText)

        // While full: readiness says why, an erasure is still stored (on the reserve), a new
        // referral is refused with 503, and the watchdog stops pinging.
        let notReady = try readiness(refex)
        XCTAssertEqual(notReady.status, "503", notReady.body)
        XCTAssertTrue(notReady.body.contains("disk is full"), notReady.body)
        let (eraseResult, erase) = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(earlySubject)/erase"], as: "hub-admin")
        XCTAssertEqual(erase?.status, 200, eraseResult.output)
        let refused = try XCTUnwrap(try post(refex, reference: "FULL-WHILE-FULL"))
        XCTAssertEqual(refused.status, 503)
        XCTAssertNotNil(refused.header("retry-after"))
        XCTAssertTrue(refex.waitForLog("withholding the watchdog ping stalled=store-commits-failing", count: 2), refex.logText)
        let pingsWhileFull = refex.notify.count(ofLine: "WATCHDOG=1")
        XCTAssertTrue(refex.waitForLog("withholding the watchdog ping", count: 4), refex.logText)
        XCTAssertEqual(refex.notify.count(ofLine: "WATCHDOG=1"), pingsWhileFull, "pinged while commits failed")
        XCTAssertFalse(refex.logText.contains("cannot start a transaction within a transaction"), refex.logText)

        // Space returns: refex recovers by itself, without a restart.
        try FileManager.default.removeItem(atPath: "\(mount)/filler")
        XCTAssertTrue(refex.waitForLog("store commits succeed again", timeout: 30), refex.logText)
        XCTAssertEqual(try readiness(refex).status, "200")
        XCTAssertTrue(refex.notify.wait(forCount: pingsWhileFull + 2, ofLine: "WATCHDOG=1", timeout: 20), "pings did not resume")
        XCTAssertEqual(try post(refex, reference: "FULL-AFTER")?.status, 202)

        // Nothing acknowledged was lost, and the log verifies against the store.
        let held = try refex.referralReadStatuses(acknowledged)
        XCTAssertEqual(held.filter { $0.value == 200 }.count, acknowledged.count, "\(held.filter { $0.value != 200 })")
        let verified = try Subprocess.run(ProjectPaths.refexBinary, ["log", "verify", "--config", refex.configPath, "--no-signatures"], timeout: 120)
        XCTAssertEqual(verified.status, 0, verified.errorOutput)
        XCTAssertFalse(refex.logText.contains("<3>request failed"), refex.logText)
    }

    func testAFullDiskUnderTheKeysAloneIsAPauseWithoutReleasingTheReserve() throws {
        // store.keysPath on its own small file system; the data and the reserve elsewhere, with room.
        let mount = ProjectPaths.temporaryDirectory("refex-tmpfs")
        let mounted = try Subprocess.run("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mount])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root): \(mounted.errorOutput)") }
        defer { _ = try? Subprocess.run("umount", ["-l", mount]) }
        var config = try RefexProcess.config()
        let folder = ProjectPaths.temporaryDirectory("refex-state")
        config["store"] = ["path": .string("\(folder)/refex.db"), "keysPath": .string("\(mount)/refex-keys.db")]
        let refex = try RefexProcess(config: config, environment: ["REFEX_STORE_RESERVE_BYTES": String(1 << 20)])
        defer { refex.stop() }
        XCTAssertEqual(try post(refex, reference: "KEYS-EARLY")?.status, 202)

        let filled = try Subprocess.run("dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=4k"], timeout: 60)
        XCTAssertTrue(filled.errorOutput.contains("No space left"), filled.errorOutput)
        // A referral for a new subject commits the data alone (its key was stored ahead, issue 17),
        // so the first few may still be accepted, durably; the first commit to the keys file that
        // fails (its blind-index entries, within 100 ms) pauses the store as before.
        var acceptedWhileFull: [String] = []
        for index in 0..<20 {
            let answer = try XCTUnwrap(try post(refex, reference: "KEYS-FULLING-\(index)"))
            if answer.status == 503 { break }
            XCTAssertEqual(answer.status, 202, answer.body)
            if let id = answer.json?["id"]?.stringValue { acceptedWhileFull.append(id) }
        }
        XCTAssertLessThan(acceptedWhileFull.count, 20, "a full keys file never paused the store")
        for index in 0..<6 {
            let refused = try XCTUnwrap(try post(refex, reference: "KEYS-FULL-\(index)"))
            XCTAssertEqual(refused.status, 503, refused.body)
            XCTAssertNotNil(refused.header("retry-after"))
        }
        let notReady = try readiness(refex)
        XCTAssertEqual(notReady.status, "503", notReady.body)
        XCTAssertTrue(notReady.body.contains("disk is full"), notReady.body)
        // Releasing the reserve frees nothing where the keys are: it stays, and nothing flaps.
        XCTAssertFalse(refex.logText.contains("released the reserve"), refex.logText)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/refex.db.reserve"))

        try FileManager.default.removeItem(atPath: "\(mount)/filler")
        XCTAssertTrue(refex.waitForLog("store commits succeed again", timeout: 30), refex.logText)
        XCTAssertEqual(try post(refex, reference: "KEYS-AFTER")?.status, 202)
        XCTAssertEqual(try readiness(refex).status, "200")
        let held = try refex.referralReadStatuses(acceptedWhileFull)
        XCTAssertEqual(held.filter { $0.value == 200 }.count, acceptedWhileFull.count, "accepted while the keys file was full, and held")
    }

    func testAReserveDeletedWhileRunningIsAllocatedAgain() throws {
        let refex = try RefexProcess(environment: ["REFEX_STORE_RESERVE_BYTES": String(1 << 20)])
        defer { refex.stop() }
        let reserve = refex.storePath + ".reserve"
        XCTAssertTrue(FileManager.default.fileExists(atPath: reserve), "no reserve beside the store")
        try FileManager.default.removeItem(atPath: reserve)
        XCTAssertEqual(try post(refex, reference: "RESERVE-GONE")?.status, 202)
        XCTAssertTrue(refex.waitForLog("the disk reserve was missing beside the store; allocated it again"), refex.logText)
        let size = try FileManager.default.attributesOfItem(atPath: reserve)[.size] as? Int
        XCTAssertEqual(size, 1 << 20)
    }

    /// A delivery whose answer comes back while the disk is full: the data has left, so its outcome
    /// is retried until it can be stored, never dropped, and never sent twice.
    func testADeliveryAnsweredWhileTheDiskIsFullIsRecordedOnceSpaceReturns() throws {
        let mount = ProjectPaths.temporaryDirectory("refex-tmpfs")
        let mounted = try Subprocess.run("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mount])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root): \(mounted.errorOutput)") }
        defer { _ = try? Subprocess.run("umount", ["-l", mount]) }
        let sink = try SinkProcess(options: ["--delay-ms", "3000"])
        defer { sink.stop() }
        var config = try RefexProcess.config()
        config["store"] = ["path": .string("\(mount)/refex.db")]
        config["recipients"] = .array(try RefexProcess.recipients(endpoint: sink.endpoint))
        let refex = try RefexProcess(config: config, environment: ["REFEX_STORE_RESERVE_BYTES": String(2 << 20)])
        defer { refex.stop() }
        let answer = try XCTUnwrap(try post(refex, reference: "FULL-DELIVERY"))
        XCTAssertEqual(answer.status, 202, answer.body)
        let referral = try XCTUnwrap(answer.json?["id"]?.stringValue)
        // While the sink holds the delivery, the disk fills.
        _ = try Subprocess.run("dd", ["if=/dev/zero", "of=\(mount)/filler", "bs=64k"], timeout: 60)
        XCTAssertEqual(try post(refex, reference: "FULL-DELIVERY-2")?.status, 503, "the disk did not fill")
        XCTAssertTrue(refex.waitForLog("cannot record a delivery outcome yet; retrying", timeout: 30), refex.logText)
        try FileManager.default.removeItem(atPath: "\(mount)/filler")
        XCTAssertTrue(waitUntil(timeout: 30) {
            let status = try? Curl.request(["\(refex.baseURL)/v1/referrals/\(referral)"], as: "police").response?.json
            return status?["disclosures"]?.arrayValue?.contains { $0["state"]?.stringValue == "delivered" } == true
        }, refex.logText)
        let keys = sink.requests.map(\.key)
        XCTAssertEqual(keys.count, Set(keys).count, "a disclosure was sent twice: \(keys)")
        let verified = try Subprocess.run(ProjectPaths.refexBinary, ["log", "verify", "--config", refex.configPath, "--no-signatures"], timeout: 120)
        XCTAssertEqual(verified.status, 0, verified.errorOutput)
        XCTAssertFalse(refex.logText.contains("<3>cannot record a delivery outcome"), refex.logText)
    }
}
