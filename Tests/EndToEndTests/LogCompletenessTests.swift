import Foundation
import JSON
import TestSupport
import XCTest

/// `refex log verify` checks the log against the rest of the store, not only against itself:
/// cutting entries (and re-chaining what is left, as someone who can write the file would) is
/// found, and so is an entry naming a row that never existed. Also the canonical-form vectors
/// that the fast and the full check once judged differently. Through the built binary on copies
/// (`--store`, read-only), with sqlite3 and Tests/scripts/rechain_log.py as the attacker.
///
/// SQLite-specific throughout: the attacker edits the store's files, so the class is skipped for
/// any other store.
final class LogCompletenessTests: XCTestCase {
    override func setUpWithError() throws {
        try sqliteOnly()
    }

    private func cli(_ arguments: [String]) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments, timeout: 120)
    }

    /// Inspects or changes one of the SQLite files directly (see `SQLiteFiles`).
    private func sql(_ database: String, _ query: String) throws -> String {
        try SQLiteFiles.run(database, query)
    }

    private func post(_ refex: RefexProcess, _ path: String, _ body: JSONValue, as partner: String = "police") throws -> ClientResponse {
        let file = ProjectPaths.temporaryDirectory() + "/body.json"
        try Data(body.serialized()).write(to: URL(fileURLWithPath: file))
        return try XCTUnwrap(try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)\(path)"], as: partner
        ).response)
    }

    private func referral(_ reference: String) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-2-hate-crime-witness.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        return .object(object)
    }

    /// A stopped store's two files, with what it holds as refex reported it: each referral's id,
    /// the first disclosure of each, and every consent.
    private struct StoppedStore {
        var data: String
        var keys: String
        var referrals: [String] = []
        var disclosures: [String] = []
        var consents: [String] = []
    }

    /// A stopped store with three referrals, a consent on the first, and a reading of the second.
    private func store() throws -> StoppedStore {
        let refex = try RefexProcess()
        var store = StoppedStore(data: refex.storePath, keys: refex.keysPath)
        for index in 0..<3 {
            let answer = try post(refex, "/v1/referrals", try referral("COMPLETE-\(index)"))
            XCTAssertEqual(answer.status, 202, answer.body)
            store.referrals.append(try XCTUnwrap(answer.json?["id"]?.stringValue))
            store.disclosures.append(try XCTUnwrap(answer.json?["disclosures"]?[0]?["id"]?.stringValue))
        }
        let referrals = store.referrals
        let consent: JSONValue = [
            "schema": "urn:refex:schema:consent:1", "referralId": .string(referrals[0]), "purposes": ["general-victim-support", "hate-crime"],
            "obtainedBy": "PC Sam Sample", "obtainedAt": "2026-11-21T09:00:00Z", "method": "written",
        ]
        XCTAssertEqual(try post(refex, "/v1/consents", consent).status, 201)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/referrals/\(referrals[1])"], as: "police").response?.status, 200)
        store.consents = try referrals.flatMap { try refex.consents(referral: $0).compactMap { $0["id"]?.stringValue } }
        XCTAssertEqual(store.consents.count, 4, "one in each referral, and the one recorded on the first")
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        return store
    }

    private func copy(_ store: StoppedStore) throws -> String {
        let folder = ProjectPaths.temporaryDirectory("refex-cut")
        try FileManager.default.copyItem(atPath: store.data, toPath: "\(folder)/copy.db")
        try FileManager.default.copyItem(atPath: store.keys, toPath: "\(folder)/copy-keys.db")
        return "\(folder)/copy.db"
    }

    private func rechain(_ copy: String, _ arguments: [String] = []) throws {
        let result = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/rechain_log.py", copy] + arguments)
        XCTAssertEqual(result.status, 0, result.errorOutput)
    }

    private func assertFails(_ copy: String, _ reason: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertFails(copy, anyOf: [reason], what, file: file, line: line)
    }

    /// `log verify` on `copy` fails naming one of `reasons`.
    private func assertFails(_ copy: String, anyOf reasons: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try cli(["log", "verify", "--store", copy, "--no-signatures"])
        XCTAssertEqual(result.status, 1, "\(what): \(result.output)", file: file, line: line)
        XCTAssertTrue(reasons.contains { result.errorOutput.contains($0) }, "\(what): \(result.errorOutput)", file: file, line: line)
    }

    func testCutsFromTheLogAreFoundAgainstTheStore() throws {
        let store = try store()
        // The untouched store, and the same log re-chained by the attacker's tool, verify: the
        // tool is faithful, so what fails below fails for what was cut.
        XCTAssertEqual(try cli(["log", "verify", "--store", try copy(store), "--no-signatures"]).status, 0)
        let rechained = try copy(store)
        try rechain(rechained)
        let control = try cli(["log", "verify", "--store", rechained, "--no-signatures"])
        XCTAssertEqual(control.status, 0, control.errorOutput)

        // The whole log (and its checkpoints).
        let emptied = try copy(store)
        _ = try sql(emptied, "DELETE FROM log_entries; DELETE FROM checkpoints;")
        try assertFails(emptied, "referral \(store.referrals[0]) has no referral.received entry", "the whole log")

        // One referral's tail: the last referral's entries, the newest in the log.
        let tail = try copy(store)
        _ = try sql(tail, "DELETE FROM log_entries WHERE seq >= (SELECT min(seq) FROM log_entries WHERE referral_id = '\(store.referrals[2])')")
        try assertFails(tail, "referral \(store.referrals[2]) has no referral.received entry", "a referral's tail")

        // One disclosure's entries, the rest re-chained.
        let disclosure = store.disclosures[1]
        let noDisclosure = try copy(store)
        try rechain(noDisclosure, ["--delete", "disclosure_id = '\(disclosure)'"])
        try assertFails(noDisclosure, "disclosure \(disclosure) has no", "a disclosure's entries")

        // One consent's entries, the rest re-chained.
        let noConsent = try copy(store)
        try rechain(noConsent, ["--delete", "event = 'consent.recorded'"])
        try assertFails(noConsent, anyOf: store.consents.map { "consent \($0) has no consent.recorded entry" }, "a consent's entries")

        // An entry naming a referral that never existed (the seq to rename, read from the file it is renamed in).
        let viewed = try sql(store.data, "SELECT seq FROM log_entries WHERE event = 'referral.viewed' LIMIT 1")
        let invented = try copy(store)
        try rechain(invented, ["--rename-referral", viewed, "00000000-0000-4000-8000-000000000000"])
        try assertFails(invented, "names referral 00000000-0000-4000-8000-000000000000, which is not in the store", "an invented row")
    }

    func testACutRestrictionIsFoundAgainstTheStore() throws {
        let refex = try RefexProcess()
        let answer = try post(refex, "/v1/referrals", try referral("RESTRICTED-0"))
        XCTAssertEqual(answer.status, 202, answer.body)
        let subject = try XCTUnwrap(answer.json?["subjectId"]?.stringValue)
        let restricted = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(subject)/restrict"], as: "hub-admin").response
        XCTAssertEqual(restricted?.status, 200, restricted?.body ?? "")
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        let store = StoppedStore(data: refex.storePath, keys: refex.keysPath)
        let whole = try copy(store)
        try rechain(whole)
        XCTAssertEqual(try cli(["log", "verify", "--store", whole, "--no-signatures"]).status, 0)
        let cut = try copy(store)
        try rechain(cut, ["--delete", "event = 'subject.restricted'"])
        try assertFails(cut, "restricted subject \(subject) has no subject.restricted entry", "a restriction's entry")
    }

    func testTheCanonicalFormVectorsGetOneVerdict() throws {
        let store = try store()
        // The entry to extend, read from the file it is extended in.
        let last = try sql(store.data, "SELECT max(seq) FROM log_entries")
        // A member that sorts after every other, with each number as written.
        for (raw, canonical) in [("-0.5", true), ("0.25", true), ("9007199254740993", false), ("1000000000000000000000", false), ("1e+400", false)] {
            let copy = try copy(store)
            try rechain(copy, ["--member", last, "zz", raw])
            let result = try cli(["log", "verify", "--store", copy, "--no-signatures"])
            if canonical {
                XCTAssertEqual(result.status, 0, "\(raw): \(result.errorOutput)")
            } else {
                XCTAssertEqual(result.status, 1, "\(raw): \(result.output)")
                XCTAssertTrue(result.errorOutput.contains("entry \(last) was altered: it is not in canonical form"), "\(raw): \(result.errorOutput)")
            }
        }
    }
}
