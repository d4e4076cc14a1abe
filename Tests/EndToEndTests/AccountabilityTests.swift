import Foundation
import JSON
import TestSupport
import XCTest

/// The disclosure log, its verification against tampering, and subject rights, through the built
/// binary, curl and refex sink; state read back through refex. The tampering, the aged data and
/// the copies taken before erasure are done on the SQLite files (those tests are `sqliteOnly`).
final class AccountabilityTests: XCTestCase {
    private func signingKey() throws -> String {
        let path = ProjectPaths.temporaryDirectory() + "/log-signing.key"
        let result = try Subprocess.run(ProjectPaths.refexBinary, ["keys", "generate", path])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertTrue(result.output.contains("BEGIN PUBLIC KEY"))
        return path
    }

    private func config(sink: SinkProcess? = nil, checkpointEvery: Int = 5) throws -> JSONObject {
        var config = try RefexProcess.config()
        config["log"] = ["signingKey": .string(try signingKey()), "checkpointEveryEntries": .number(JSONNumber(checkpointEvery))]
        if let sink {
            config["recipients"] = .array(try RefexProcess.recipients(endpoint: sink.endpoint))
        }
        return config
    }

    private func submit(_ refex: RefexProcess, reference: String, subjectID: String? = nil) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        if let subjectID { object["subjectId"] = .string(subjectID) }
        let file = ProjectPaths.temporaryDirectory() + "/r.json"
        try Data(JSONValue.object(object).serialized()).write(to: URL(fileURLWithPath: file))
        let (result, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: "police"
        )
        XCTAssertEqual(response?.status, 202, result.output)
        return response?.json ?? .null
    }

    private func cli(_ arguments: [String], input: Data? = nil) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments, input: input, timeout: 120)
    }

    /// A consistent copy of a running store's two SQLite databases, made with sqlite3's online backup.
    private func copyStore(_ store: String) throws -> String {
        let folder = ProjectPaths.temporaryDirectory("refex-copy")
        let copy = "\(folder)/copy.db"
        try SQLiteFiles.run(store, ".backup '\(copy)'")
        try SQLiteFiles.run(SQLiteFiles.keysPath(for: store), ".backup '\(folder)/copy-keys.db'")
        return copy
    }

    // MARK: Verification against tampering

    func testVerifyFindsEachKindOfTamperingAndNamesTheEntry() throws {
        try sqliteOnly()
        let refex = try RefexProcess(config: try config())
        for index in 0..<6 { _ = try submit(refex, reference: "TAMPER-\(index)") }
        let publicKey = ProjectPaths.temporaryDirectory() + "/public.pem"
        let keyPath = try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath))))["log"]?["signingKey"]?.stringValue)
        XCTAssertEqual(try Subprocess.run("openssl", ["pkey", "-in", keyPath, "-pubout", "-out", publicKey]).status, 0)

        let clean = try copyStore(refex.storePath)
        let verified = try cli(["log", "verify", "--store", clean, "--public-key", publicKey])
        XCTAssertEqual(verified.status, 0, verified.errorOutput)
        XCTAssertTrue(verified.output.contains("checkpoint signatures checked"), verified.output)

        // An auditor keeps the latest checkpoint.
        let kept = ProjectPaths.temporaryDirectory() + "/kept.json"
        let checkpoint = try cli(["log", "checkpoint", "--store", clean])
        XCTAssertEqual(checkpoint.status, 0, checkpoint.errorOutput)
        try Data(checkpoint.output.utf8).write(to: URL(fileURLWithPath: kept))
        let keptSeq = try XCTUnwrap(try JSONValue.parse(checkpoint.output)["seq"]?.int64Value)
        XCTAssertGreaterThan(keptSeq, 12)

        let cases: [(String, String, String)] = [
            ("UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'dv-support', 'dv-supporX') AS BLOB) WHERE seq = 7",
             "entry 7", "was altered"),
            ("DELETE FROM log_entries WHERE seq = 9", "entry 9", "missing"),
            ("""
             CREATE TEMP TABLE swap AS SELECT seq, entry, hash FROM log_entries WHERE seq IN (10, 11);
             UPDATE log_entries SET entry = (SELECT entry FROM swap WHERE swap.seq = 21 - log_entries.seq),
                                    hash = (SELECT hash FROM swap WHERE swap.seq = 21 - log_entries.seq) WHERE seq IN (10, 11);
             """, "entry 10", "holds the content of entry 11"),
            ("UPDATE log_entries SET actor = 'someone-else' WHERE seq = 3", "entry 3", "indexed columns"),
            // Hidden from a subject's access request or a filter without touching the content.
            ("UPDATE log_entries SET subject_id = 'another-subject' WHERE seq = 4", "entry 4", "indexed columns"),
            ("UPDATE log_entries SET recipient_id = NULL WHERE seq = (SELECT min(seq) FROM log_entries WHERE recipient_id IS NOT NULL)",
             "entry", "indexed columns"),
        ]
        for (statement, entry, reason) in cases {
            let copy = try copyStore(refex.storePath)
            try SQLiteFiles.run(copy, statement)
            let result = try cli(["log", "verify", "--store", copy, "--public-key", publicKey])
            XCTAssertEqual(result.status, 1, "\(statement): \(result.output)")
            XCTAssertTrue(result.errorOutput.contains("FAILED at \(entry)") && result.errorOutput.contains(reason), "\(statement): \(result.errorOutput)")
        }

        // A cut tail, the attacker removing the stored checkpoints too: the kept one still proves it.
        let cut = try copyStore(refex.storePath)
        let cutAt = keptSeq - 3
        try SQLiteFiles.run(cut, "DELETE FROM log_entries WHERE seq > \(cutAt); DELETE FROM checkpoints WHERE seq > \(cutAt)")
        // Without the kept checkpoint the chain alone cannot show the cut, but the store can: its
        // referrals have no entries any more (issue 12).
        let unkept = try cli(["log", "verify", "--store", cut, "--public-key", publicKey])
        XCTAssertEqual(unkept.status, 1, unkept.output)
        XCTAssertTrue(unkept.errorOutput.contains("the log is incomplete"), unkept.errorOutput)
        let caught = try cli(["log", "verify", "--store", cut, "--public-key", publicKey, "--checkpoint", kept])
        XCTAssertEqual(caught.status, 1)
        XCTAssertTrue(caught.errorOutput.contains("were removed"), caught.errorOutput)
        XCTAssertTrue(caught.errorOutput.contains("entry \(cutAt + 1)"), caught.errorOutput)

        // Rewriting an entry and recomputing its hash breaks the link to the next.
        let forged = try copyStore(refex.storePath)
        let entry = try SQLiteFiles.run(forged, "SELECT CAST(entry AS TEXT) FROM log_entries WHERE seq = 5")
        let altered = entry.replacingOccurrences(of: "\"actor\":\"police\"", with: "\"actor\":\"policf\"")
        let hash = try Subprocess.run("python3", ["-c", "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"],
                                      input: Data(altered.utf8)).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let escaped = altered.replacingOccurrences(of: "'", with: "''")
        try SQLiteFiles.run(forged, "UPDATE log_entries SET entry = CAST('\(escaped)' AS BLOB), hash = '\(hash)', actor = 'policf' WHERE seq = 5")
        let broken = try cli(["log", "verify", "--store", forged, "--public-key", publicKey])
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.errorOutput.contains("FAILED at entry 6") || broken.errorOutput.contains("FAILED at entry 5"), broken.errorOutput)

        // Rewriting an entry and re-chaining everything after it, stored checkpoints too: without a
        // key only the kept checkpoint can tell, and a stored one at the same entry must not hide it.
        let rechained = try copyStore(refex.storePath)
        let forge = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/forge_log.py", rechained, "7", "\"actor\":\"police\"", "\"actor\":\"policf\""])
        XCTAssertEqual(forge.status, 0, forge.errorOutput)
        XCTAssertEqual(try cli(["log", "verify", "--store", rechained, "--no-signatures"]).status, 0, "re-chained, it verifies without a key or a kept checkpoint")
        let shadowed = try cli(["log", "verify", "--store", rechained, "--checkpoint", kept])
        XCTAssertEqual(shadowed.status, 1, shadowed.output)
        XCTAssertTrue(shadowed.errorOutput.contains("the checkpoint you kept"), shadowed.errorOutput)
        XCTAssertEqual(try cli(["log", "verify", "--store", rechained, "--public-key", publicKey]).status, 1, "the signatures no longer match")

        // Deleting the start of the log and claiming it was pruned at a genuine checkpoint: no
        // retention allowed it.
        let pruned = try copyStore(refex.storePath)
        let firstCheckpoint = try SQLiteFiles.run(pruned, "SELECT min(seq) FROM checkpoints")
        try SQLiteFiles.run(pruned, """
            INSERT INTO log_anchor SELECT 1, seq, hash FROM checkpoints WHERE seq = \(firstCheckpoint);
            DELETE FROM log_entries WHERE seq <= \(firstCheckpoint);
            """)
        let deleted = try cli(["log", "verify", "--store", pruned, "--public-key", publicKey, "--checkpoint", kept])
        XCTAssertEqual(deleted.status, 1, deleted.output)
        XCTAssertTrue(deleted.errorOutput.contains("history was deleted"), deleted.errorOutput)

        // A checkpoint signed by another key is refused.
        let otherKey = try signingKey()
        let otherPublic = ProjectPaths.temporaryDirectory() + "/other.pem"
        XCTAssertEqual(try Subprocess.run("openssl", ["pkey", "-in", otherKey, "-pubout", "-out", otherPublic]).status, 0)
        let wrongKey = try cli(["log", "verify", "--store", clean, "--public-key", otherPublic])
        XCTAssertEqual(wrongKey.status, 1)
        XCTAssertTrue(wrongKey.errorOutput.contains("not signed by the given key"), wrongKey.errorOutput)
    }

    func testAnUntouchedLogOf100000EntriesVerifies() throws {
        // The entries are written straight into the SQLite file (Tests/scripts/fill_log.py).
        try sqliteOnly()
        let refex = try RefexProcess(config: try config())
        _ = try submit(refex, reference: "BIG-0")
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        let fill = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/fill_log.py", refex.storePath, "100000"], timeout: 300)
        XCTAssertEqual(fill.status, 0, fill.errorOutput)
        let result = try cli(["log", "verify", "--config", refex.configPath])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertTrue(result.output.contains("verified 1000"), result.output)
    }

    // MARK: Reading is logged; the API and the CLI agree

    func testEveryReadOfTheLogIsItselfLoggedAndTheAPIAndCLIFiltersAgree() throws {
        let refex = try RefexProcess(config: try config())
        let receipt = try submit(refex, reference: "READ-1")
        _ = try submit(refex, reference: "READ-2")
        let referral = try XCTUnwrap(receipt["id"]?.stringValue)
        let disclosure = try XCTUnwrap(receipt["disclosures"]?[0]?["id"]?.stringValue)

        let listed = try cli(["log", "list", "--referral", referral, "--json", "--config", refex.configPath])
        XCTAssertEqual(listed.status, 0, listed.errorOutput)
        // Both see the same entries, apart from the log.viewed entry the CLI's own reading added.
        let cliSeqs = try listed.output.split(separator: "\n").map { try JSONValue.parse(String($0))["seq"]?.int64Value ?? 0 }
        let api = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/disclosures?referral=\(referral)"], as: "hub-admin").response?.json)
        let apiEntries = api["entries"]?.arrayValue ?? []
        XCTAssertEqual(apiEntries.filter { $0["event"] == "log.viewed" }.count, 1, "the CLI's reading of this referral is in its history")
        XCTAssertEqual(cliSeqs, apiEntries.filter { $0["event"] != "log.viewed" }.compactMap { $0["seq"]?.int64Value })
        XCTAssertGreaterThanOrEqual(cliSeqs.count, 4)

        XCTAssertEqual(try cli(["log", "show", disclosure, "--config", refex.configPath]).status, 0)
        XCTAssertEqual(try cli(["log", "export", "--config", refex.configPath, "--format", "csv"]).status, 0)
        XCTAssertEqual(try cli(["log", "verify", "--config", refex.configPath]).status, 0)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/disclosures/verify"], as: "hub-admin").response?.json?["valid"], true)

        // The export records its own reading after it: what it lists are the readings above.
        let viewed = try refex.logEntries(event: "log.viewed").map { $0.serializedString() }.joined(separator: "\n")
        for action in ["\"action\":\"list\"", "\"action\":\"show\"", "\"action\":\"export\"", "\"action\":\"verify\""] {
            XCTAssertTrue(viewed.contains(action), "\(action) not logged:\n\(viewed)")
        }
        XCTAssertTrue(viewed.contains("\"actor\":\"hub-admin\""), "the API reader must be the actor")
        XCTAssertTrue(viewed.contains("\"referral\":\"\(referral)\""), "the filter used must be recorded")
        XCTAssertTrue(viewed.contains("\"actor\":\"host:"), "the host user must be the actor")
    }

    func testTheAdminAPIRefusesOtherPartners() throws {
        let refex = try RefexProcess(config: try config())
        let subject = try XCTUnwrap(try submit(refex, reference: "ADMIN-1")["subjectId"]?.stringValue)
        for (method, path) in [("GET", "/v1/disclosures"), ("GET", "/v1/disclosures/verify"), ("GET", "/v1/subjects/\(subject)/export"),
                               ("POST", "/v1/subjects/\(subject)/erase"), ("POST", "/v1/subjects/\(subject)/restrict")] {
            for partner in ["police", "sink"] {
                let (_, response) = try Curl.request(["-X", method, "-d", "", "\(refex.baseURL)\(path)"], as: partner)
                XCTAssertEqual(response?.status, 403, "\(partner) \(method) \(path)")
            }
        }
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/disclosures?colour=red"], as: "hub-admin").response?.status, 400)
    }

    // MARK: Subject rights

    func testErasureShredsEvenACopyTakenBeforeAndTheLogStillVerifies() throws {
        // A copy of the SQLite files taken before, and `strings` on them after.
        try sqliteOnly()
        let refex = try RefexProcess(config: try config())
        let receipt = try submit(refex, reference: "ERASE-1")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)

        let before = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/subjects/\(subject)/export"], as: "hub-admin").response?.json)
        XCTAssertEqual(before["referrals"]?[0]?["document"]?["subject"]?["name"]?["given"], "Alex")
        XCTAssertEqual(before["consents"]?[0]?["details"]?["obtainedBy"], "PC Sam Sample")
        let copy = try copyStore(refex.storePath)

        let erased = try XCTUnwrap(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(subject)/erase"], as: "hub-admin").response)
        XCTAssertEqual(erased.status, 200)
        let after = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/subjects/\(subject)/export"], as: "hub-admin").response?.json)
        XCTAssertEqual(after["referrals"]?[0]?["document"], .null)
        XCTAssertNotEqual(after["erasedAt"], .null)
        XCTAssertTrue(after["log"]?.arrayValue?.contains { $0["event"] == "subject.erased" } ?? false)

        // The copy from before still holds ciphertext; with today's keys it cannot be opened.
        var config = try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath)))).objectValue)
        config["store"] = ["path": .string(copy), "keysPath": .string(refex.storePath.replacingOccurrences(of: ".db", with: "-keys.db"))]
        let copyConfig = ProjectPaths.temporaryDirectory() + "/copy.json"
        try RefexProcess.write(config, to: copyConfig)
        let fromCopy = try cli(["subject", "export", subject, "--config", copyConfig])
        XCTAssertEqual(fromCopy.status, 0, fromCopy.errorOutput)
        XCTAssertEqual(try JSONValue.parse(fromCopy.output)["referrals"]?[0]?["document"], .null)
        XCTAssertFalse(fromCopy.output.contains("Alex"))

        let folder = (refex.storePath as NSString).deletingLastPathComponent
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) + [copy] {
            let path = file.hasPrefix("/") ? file : "\(folder)/\(file)"
            let text = try Subprocess.run("strings", [path]).output
            XCTAssertFalse(text.contains("Alex") || text.contains("Sample Street") || text.contains("Anxiety"), "readable in \(path)")
        }
        XCTAssertEqual(try cli(["log", "verify", "--config", refex.configPath]).status, 0)
    }

    func testRestrictionBlocksANewReferralsDisclosures() throws {
        let refex = try RefexProcess(config: try config())
        let first = try submit(refex, reference: "RESTRICT-1")
        let subject = try XCTUnwrap(first["subjectId"]?.stringValue)
        let restricted = try XCTUnwrap(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(subject)/restrict"], as: "hub-admin").response)
        XCTAssertEqual(restricted.status, 200)
        let second = try submit(refex, reference: "RESTRICT-2", subjectID: subject)
        for disclosure in second["disclosures"]?.arrayValue ?? [] {
            XCTAssertEqual(disclosure["state"], "refused")
            XCTAssertEqual(disclosure["reason"], "restricted")
        }
        XCTAssertGreaterThanOrEqual(try refex.logEntries(event: "disclosure.withheld").filter { $0.serializedString().contains("restricted") }.count, 2)
        XCTAssertEqual(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(subject)/unrestrict"], as: "hub-admin").response?.status, 200)
    }

    func testRectificationNoticeReachesTheRecipientWithOnlyTheChangedFields() throws {
        let sink = try SinkProcess()
        let refex = try RefexProcess(config: try config(sink: sink))
        let receipt = try submit(refex, reference: "RECTIFY-1")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let disclosure = try XCTUnwrap(receipt["disclosures"]?.arrayValue?.first { $0["recipient"] == "dv-support" }?["id"]?.stringValue)
        XCTAssertTrue(sink.wait { sink.files.contains("\(disclosure).json") })
        XCTAssertTrue(sink.wait {
            (try? refex.disclosure(disclosure, of: receipt["id"]?.stringValue ?? "")?["state"]) == "delivered"
        })
        let patch = ProjectPaths.temporaryDirectory() + "/patch.json"
        try Data(#"{"subject": {"name": {"given": "Alexandra"}, "ethnicOrigin": "Recorded later"}, "riskOfHarm": "medium"}"#.utf8)
            .write(to: URL(fileURLWithPath: patch))
        let (result, response) = try Curl.request(
            ["-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "--data-binary", "@\(patch)", "\(refex.baseURL)/v1/subjects/\(subject)"],
            as: "hub-admin"
        )
        XCTAssertEqual(response?.status, 200, result.output)
        XCTAssertEqual(response?.json?["rectificationNotices"], ["dv-support"])
        XCTAssertTrue(sink.wait { sink.files.contains { $0.hasPrefix("\(disclosure).rectification-notice.") } }, refex.logText)
        let notice = try sink.document(try XCTUnwrap(sink.files.first { $0.hasPrefix("\(disclosure).rectification-notice.") }))
        XCTAssertEqual(notice["type"], "rectification-notice")
        XCTAssertEqual(notice["data"], ["subject": ["name": ["given": "Alexandra"]], "riskOfHarm": "medium"],
                       "only the changed fields dv-support may receive (not ethnicOrigin, a category it lacks)")
        let export = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/subjects/\(subject)/export"], as: "hub-admin").response?.json)
        XCTAssertEqual(export["referrals"]?[0]?["document"]?["subject"]?["name"]?["given"], "Alexandra")
        XCTAssertEqual(try refex.logCount(event: "subject.rectified"), 1)
        let invalid = try Curl.request(
            ["-X", "PATCH", "-H", "Content-Type: application/json", "--data-binary", #"{"riskOfHarm": "extreme"}"#, "\(refex.baseURL)/v1/subjects/\(subject)"],
            as: "hub-admin"
        ).response
        XCTAssertEqual(invalid?.status, 422)
    }

    func testRectificationThatWidensAQueuedDisclosureIsLogged() throws {
        // Recipients at a port nothing answers: the disclosure stays queued.
        let refex = try RefexProcess(config: try config())
        let receipt = try submit(refex, reference: "RECTIFY-2")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let disclosure = try XCTUnwrap(receipt["disclosures"]?.arrayValue?.first { $0["recipient"] == "dv-support" }?["id"]?.stringValue)
        let patch = #"{"subject": {"vulnerabilities": ["repeat-victim", "child-present", "mental-health"]}}"#
        let (result, response) = try Curl.request(
            ["-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "--data-binary", patch, "\(refex.baseURL)/v1/subjects/\(subject)"],
            as: "hub-admin"
        )
        XCTAssertEqual(response?.status, 200, result.output)
        let entries = try refex.logEntries(event: "disclosure.authorised", disclosure: disclosure)
        XCTAssertEqual(entries.count, 2, "the decision, then what the rectification added to it")
        let latest = try XCTUnwrap(entries.last)
        XCTAssertEqual(latest["reason"], "rectified")
        XCTAssertTrue(latest["pointers"]?.arrayValue?.contains("/subject/vulnerabilities/2") ?? false, "\(latest)")
        XCTAssertEqual(latest["categories"], ["health"])
    }

    func testRetentionErasesWhatIsDueAndSaysWhatIsNext() throws {
        // The referral is aged in the SQLite file: refex has no clock to wind on.
        try sqliteOnly()
        var configuration = try config()
        configuration["retention"] = ["referralsDays": 1, "consentsDays": 1, "logDays": 30]
        let refex = try RefexProcess(config: configuration)
        let subject = try XCTUnwrap(try submit(refex, reference: "RETAIN-1")["subjectId"]?.stringValue)
        let status = try cli(["retention", "status", "--config", refex.configPath])
        XCTAssertEqual(status.status, 0, status.errorOutput)
        XCTAssertEqual(try JSONValue.parse(status.output)["referrals"]?["overdue"], false)
        // Age the referral by two days, then run the purge.
        let old = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
        // The daemon writes beside it (delivery retries): wait for the lock rather than fail on SQLITE_BUSY.
        try refex.sqliteFile("UPDATE referrals SET received_at = \(old)")
        XCTAssertEqual(try JSONValue.parse(try cli(["retention", "status", "--config", refex.configPath]).output)["referrals"]?["overdue"], true)
        let run = try cli(["retention", "run", "--config", refex.configPath])
        XCTAssertEqual(run.status, 0, run.errorOutput)
        XCTAssertEqual(try JSONValue.parse(run.output)["subjectsErased"], 1)
        XCTAssertEqual(try refex.logEntries(event: "subject.erased", subject: subject).map { $0["reason"] }, ["retention"])
        XCTAssertNotNil(try refex.subjectExport(subject)["erasedAt"]?.stringValue)
        XCTAssertEqual(try cli(["log", "verify", "--config", refex.configPath]).status, 0)
    }
}

extension AccountabilityTests {
    func testConsentListShowsRecordsWithoutPersonalData() throws {
        let refex = try RefexProcess(config: try RefexProcess.config())
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        let (_, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(path)", "\(refex.baseURL)/v1/referrals"], as: "police"
        )
        let subject = try XCTUnwrap(response?.json?["subjectId"]?.stringValue)
        let result = try Subprocess.run(ProjectPaths.refexBinary, ["consent", "list", "--subject", subject, "--json", "--config", refex.configPath])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        let consent = try JSONValue.parse(try XCTUnwrap(result.output.split(separator: "\n").first.map(String.init)))
        XCTAssertEqual(consent["purposes"], ["domestic-abuse"])
        XCTAssertEqual(consent["method"], "verbal")
        XCTAssertFalse(result.output.contains("Sam Sample"), "who obtained it stays sealed")
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["consent", "list", "--config", refex.configPath]).status, 2)
    }
}
