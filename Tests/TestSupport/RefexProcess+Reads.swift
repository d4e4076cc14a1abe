import Foundation
import JSON

/// A read through refex that failed: a host command that did not exit 0, or an admin API request
/// that was not answered 200; what it printed or answered.
package struct RefexReadFailed: Error, CustomStringConvertible {
    package var description: String
}

/// State read back through refex itself, as an admin would: the admin API and the host
/// commands' `--json` output, never the store's files, so that a test reads the same facts from
/// any store. Every read of the log is itself logged (`log.viewed`, actor `host:USER` for host
/// commands), so tests that count `log.viewed` leave out the reads they made themselves.
extension RefexProcess {
    /// `refex ARGUMENTS --config` this process's config, run to completion; throws unless it exits 0.
    @discardableResult
    package func host(_ arguments: [String], timeout: TimeInterval = 60) throws -> SubprocessResult {
        let result = try Subprocess.run(ProjectPaths.refexBinary, arguments + ["--config", configPath], timeout: timeout)
        guard result.status == 0 else {
            throw RefexReadFailed(description: "refex \(arguments.joined(separator: " ")) exited \(result.status): \(result.errorOutput)")
        }
        return result
    }

    /// Disclosure-log entries as `refex log export` writes them (JSON lines, oldest first), with
    /// the export's filters; `disclosure` keeps only the entries naming that disclosure.
    package func logEntries(
        event: String? = nil, referral: String? = nil, subject: String? = nil, recipient: String? = nil, actor: String? = nil,
        disclosure: String? = nil
    ) throws -> [JSONValue] {
        var arguments = ["log", "export"]
        for (option, value) in [("--event", event), ("--referral", referral), ("--subject", subject), ("--recipient", recipient), ("--actor", actor)] {
            if let value { arguments += [option, value] }
        }
        let entries = try host(arguments).output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        guard let disclosure else { return entries }
        return entries.filter { $0["disclosureId"]?.stringValue == disclosure }
    }

    /// An exported entry as it was hashed: without `hash`, and without a `justification` that the
    /// export shows opened beside its `justificationDigest` (the free text is sealed under the
    /// subject's key; the entry commits to its digest). `recomputedLogChain` checks that this
    /// is what each entry's hash covers.
    package static func committed(_ entry: JSONValue) -> JSONValue {
        guard case .object(var object) = entry else { return entry }
        object["hash"] = nil
        if object["justificationDigest"] != nil { object["justification"] = nil }
        return .object(object)
    }

    /// The whole log as `refex log export` writes it, its chain recomputed by
    /// Tests/scripts/verify_log.py (independently of refex): `count`, `problems`, `events`.
    package func recomputedLogChain() throws -> JSONValue {
        let export = try host(["log", "export"])
        let result = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/verify_log.py", "--export"], input: export.stdout)
        guard result.status == 0 else { throw RefexReadFailed(description: "verify_log.py: \(result.errorOutput)") }
        return try JSONValue.parse(result.output)
    }

    /// How many log entries match (see `logEntries`).
    package func logCount(
        event: String? = nil, referral: String? = nil, subject: String? = nil, recipient: String? = nil, disclosure: String? = nil
    ) throws -> Int {
        try logEntries(event: event, referral: referral, subject: subject, recipient: recipient, disclosure: disclosure).count
    }

    /// The `log.viewed` entries, leaving out those that the host commands of this test (actor
    /// `host:…`) recorded; the partners' and admins' reads through the API stay.
    package func logViewedByPartners() throws -> [JSONValue] {
        try logEntries(event: "log.viewed").filter { $0["actor"]?.stringValue?.hasPrefix("host:") != true }
    }

    /// Every outbox item, pending or failed, as `refex outbox list --json` prints them (items
    /// delivered, cancelled or acknowledged leave the outbox).
    package func outboxItems() throws -> [JSONValue] {
        try host(["outbox", "list", "--json"]).output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// The consents recorded for a referral (`refex consent list --referral ID --json`), oldest first.
    package func consents(referral: String) throws -> [JSONValue] {
        try host(["consent", "list", "--referral", referral, "--json"]).output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// The id of the one consent recorded for `referral`; throws when there is not exactly one.
    package func consentID(referral: String) throws -> String {
        let ids = try consents(referral: referral).compactMap { $0["id"]?.stringValue }
        guard ids.count == 1, let id = ids.first else {
            throw RefexReadFailed(description: "referral \(referral) has \(ids.count) consents, not one")
        }
        return id
    }

    /// `GET /v1/referrals/{id}` as the admin hub-admin: the referral's state and each disclosure's.
    package func referralStatus(_ id: String) throws -> JSONValue {
        let response = try request("GET", "/v1/referrals/\(id)", as: "hub-admin")
        guard response.status == 200, let json = response.json else {
            throw RefexReadFailed(description: "GET /v1/referrals/\(id): \(response.status) \(response.body)")
        }
        return json
    }

    /// The status of `GET /v1/referrals/{id}` as `partner` for each of `ids`, asked over one
    /// connection (one curl for them all): 200 for a referral held and readable.
    package func referralReadStatuses(_ ids: [String], as partner: String = "police") throws -> [String: Int] {
        var arguments = [
            "-sS", "--max-time", "300", "--cacert", try TestPKI.certificate("ca"), "--cert", try TestPKI.certificate(partner),
            "--key", try TestPKI.key(partner), "-w", "%{http_code}\n",
        ]
        for id in ids { arguments += ["-o", "/dev/null", "\(baseURL)/v1/referrals/\(id)"] }
        let result = try Subprocess.run("curl", arguments, timeout: 310)
        let codes = result.output.split(separator: "\n").map { Int($0) ?? 0 }
        guard codes.count == ids.count else {
            throw CurlFailed(description: "\(codes.count) answers to \(ids.count) requests: \(result.errorOutput)")
        }
        return Dictionary(zip(ids, codes)) { first, _ in first }
    }

    /// One disclosure of a referral, as `referralStatus` shows it.
    package func disclosure(_ id: String, of referral: String) throws -> JSONValue? {
        try referralStatus(referral)["disclosures"]?.arrayValue?.first { $0["id"]?.stringValue == id }
    }

    /// `GET /v1/subjects/{id}/export` as hub-admin: everything held about the subject (its
    /// referrals' documents, null once erased; consents; disclosures; `restricted`, `erasedAt`).
    package func subjectExport(_ id: String) throws -> JSONValue {
        let response = try request("GET", "/v1/subjects/\(id)/export", as: "hub-admin")
        guard response.status == 200, let json = response.json else {
            throw RefexReadFailed(description: "GET /v1/subjects/\(id)/export: \(response.status) \(response.body)")
        }
        return json
    }
}
