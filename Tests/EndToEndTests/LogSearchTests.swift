import Foundation
import JSON
import TestSupport
import XCTest

/// Searches of the disclosure log that refuse mistakes (issue 10, item 4), through the built
/// binary and curl: a filter that names nothing known is an error listing the valid values (exit 2,
/// 400), never "(none)"; tables tell entries apart and read as people need.
final class LogSearchTests: XCTestCase {
    private func config(signed: Bool = true) throws -> JSONObject {
        var config = try RefexProcess.config()
        if signed {
            let key = ProjectPaths.temporaryDirectory() + "/log-signing.key"
            XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["keys", "generate", key]).status, 0)
            config["log"] = ["signingKey": .string(key), "checkpointEveryEntries": 5]
        }
        return config
    }

    private func submit(_ refex: RefexProcess, reference: String) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        let file = ProjectPaths.temporaryDirectory() + "/r.json"
        try Data(JSONValue.object(object).serialized()).write(to: URL(fileURLWithPath: file))
        let (result, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: "police"
        )
        XCTAssertEqual(response?.status, 202, result.output)
        return response?.json ?? .null
    }

    private func cli(_ arguments: [String], environment: [String: String]? = nil) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments, environment: environment, timeout: 120)
    }

    private func api(_ refex: RefexProcess, _ query: String) throws -> ClientResponse {
        try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/disclosures?\(query)"], as: "hub-admin").response)
    }

    func testEveryFilterMistakeIsAnErrorListingTheValidValues() throws {
        let refex = try RefexProcess(config: try config())
        // Three referrals in the same second: their ids share their first 8 characters.
        let receipts = try (1...3).map { try submit(refex, reference: "MISTAKE-\($0)") }
        let subjects = receipts.compactMap { $0["subjectId"]?.stringValue }
        let referrals = receipts.compactMap { $0["id"]?.stringValue }
        let disclosures = receipts.compactMap { $0["disclosures"]?[0]?["id"]?.stringValue }
        XCTAssertEqual(subjects.count, 3)
        let sharedSubject = String(subjects[0].prefix(8))
        XCTAssertTrue(subjects.allSatisfy { $0.hasPrefix(sharedSubject) }, "the premise: ids made together share a prefix")
        let config = ["--config", refex.configPath]

        // The mistakes seen, and their neighbours: each names the option and lists what is valid.
        let cases: [([String], [String])] = [
            (["list", "--event", "disclosure.sent"], ["--event", "disclosure.delivered", "disclosure.authorised", "log.viewed"]),
            (["list", "--event", "DISCLOSURE.DELIVERED"], ["--event", "disclosure.delivered"]),
            (["list", "--exclude-event", "log.viewed,views"], ["--exclude-event", "log.viewed"]),
            (["list", "--basis", "Consent"], ["--basis", "consent", "vital-interests", "legitimate-interests"]),
            (["list", "--basis", "vital interests"], ["--basis", "vital-interests"]),
            (["list", "--recipient", "dv_support"], ["--recipient", "dv-support", "victim-support", "translation"]),
            (["list", "--actor", "polic"], ["--actor", "police", "partner-b", "system"]),
            (["list", "--subject", sharedSubject], ["--subject", "ambiguous"] + subjects),
            (["list", "--referral", String(referrals[0].prefix(8))], ["--referral", "ambiguous"] + referrals),
            (["list", "--subject", "ffffffff"], ["--subject", "no subject"]),
            (["list", "--subject", "00000000-0000-7000-8000-000000000000"], ["--subject", "no subject has that id"]),
            (["list", "--subject", "Alex"], ["--subject", "hex digits"]),
            (["list", "--referral", subjects[0]], ["--referral", "no referral"]),
            (["export", "--event", "disclosure.sent"], ["--event", "disclosure.delivered"]),
            (["export", "--recipient", "dv_support", "--format", "csv"], ["--recipient", "dv-support"]),
            (["show", String(disclosures[0].prefix(8))], ["ambiguous"] + disclosures),
            (["show", "ffffffff"], ["no disclosure"]),
            (["show", "99999"], ["SEQ", "no entry has that seq", "the log holds entries 1 to"]),
            (["list", "--limit", "0"], ["--limit"]),
            (["list", "--limit", "ten"], ["--limit"]),
            (["list", "--after", "x"], ["--after"]),
            (["list", "--since", "yesterday"], ["--since", "RFC 3339"]),
            (["list", "--before", "5"], ["--before", "--newest-first"]),
            (["list", "--newest-first", "--after", "5"], ["--after"]),
            (["list", "--colour", "red"], ["unknown option"]),
        ]
        for (arguments, expected) in cases {
            let result = try cli(["log"] + arguments + config)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.output) \(result.errorOutput)")
            XCTAssertEqual(result.output, "", "\(arguments): nothing on stdout, never (none)")
            for text in expected {
                XCTAssertTrue(result.errorOutput.contains(text), "\(arguments): '\(text)' missing from: \(result.errorOutput)")
            }
        }

        // The same through the API: 400 problem+json naming the parameter, listing the valid values,
        // never repeating the value sent.
        let apiCases: [(String, String, [String])] = [
            ("event=disclosure.sent", "event", ["disclosure.delivered", "log.viewed"]),
            ("exclude=log.viewed,views", "exclude", ["log.viewed"]),
            ("basis=Consent", "basis", ["consent", "public-task"]),
            ("recipient=dv_support", "recipient", ["dv-support", "translation"]),
            ("actor=polic", "actor", ["police", "system"]),
            ("subject=\(sharedSubject)", "subject", subjects),
            ("referral=\(referrals[0].prefix(8))", "referral", referrals),
            ("disclosure=\(disclosures[0].prefix(8))", "disclosure", disclosures),
            ("subject=ffffffff", "subject", []),
            ("subject=Alex", "subject", []),
            ("order=sideways", "order", ["oldest", "newest"]),
            ("order=newest&after=3", "after", []),
            ("before=3", "before", []),
            ("limit=0", "limit", []),
            ("since=yesterday", "since", []),
            ("colour=red", "filter", ["subject", "event", "basis", "order"]),
            ("event=log.viewed&event=referral.received", "event", []),
        ]
        for (query, parameter, valid) in apiCases {
            let response = try api(refex, query)
            XCTAssertEqual(response.status, 400, "\(query): \(response.body)")
            XCTAssertEqual(response.header("content-type"), "application/problem+json", query)
            let problem = try XCTUnwrap(response.json, query)
            XCTAssertEqual(problem["parameter"]?.stringValue, parameter, "\(query): \(response.body)")
            let listed = problem["validValues"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for value in valid { XCTAssertTrue(listed.contains(value), "\(query): \(value) not in \(listed)") }
            let sent = String(query.split(separator: "=").last ?? "")
            if !["3", "0"].contains(sent) && !sent.contains(",") && !valid.contains(where: { $0.hasPrefix(sent) }) {
                XCTAssertFalse(problem["detail"]?.stringValue?.contains(sent) ?? true, "\(query): the detail repeats the value")
            }
        }

        // What is right is not refused: a recipient or partner that is configured but not yet in the
        // log (an honest "(none)"), a unique prefix, upper case, a whole id.
        for arguments in [["--recipient", "translation"], ["--actor", "partner-b"], ["--event", "subject.searched"]] {
            let result = try cli(["log", "list"] + arguments + config)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.errorOutput)")
            XCTAssertTrue(result.output.contains("(none)"), "\(arguments): \(result.output)")
        }
        let whole = try cli(["log", "list", "--subject", subjects[1].uppercased(), "--json"] + config)
        XCTAssertEqual(whole.status, 0, whole.errorOutput)
        let wholeEntries = try whole.output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        XCTAssertFalse(wholeEntries.isEmpty)
        XCTAssertTrue(wholeEntries.allSatisfy { $0["subjectId"]?.stringValue == subjects[1] })
        XCTAssertEqual(try api(refex, "subject=\(subjects[1])").json?["entries"]?.arrayValue?.isEmpty, false)

        // The table shows ids that tell the three apart, and each is taken back as a filter.
        let table = try cli(["log", "list", "--event", "referral.received"] + config)
        XCTAssertEqual(table.status, 0, table.errorOutput)
        // SEQ, TIME (date, time, offset), EVENT, ACTOR, REFERRAL, SUBJECT, …
        let rows = table.output.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(rows.count, 3, table.output)
        var shownSubjects: [String] = []
        for row in rows {
            XCTAssertGreaterThan(row.count, 7, table.output)
            let shownReferral = row[6], shownSubject = row[7]
            XCTAssertGreaterThanOrEqual(shownSubject.count, 8)
            shownSubjects.append(shownSubject)
            XCTAssertEqual(subjects.filter { $0.hasPrefix(shownSubject) }.count, 1, "\(shownSubject) does not tell subjects apart")
            XCTAssertEqual(referrals.filter { $0.hasPrefix(shownReferral) }.count, 1, "\(shownReferral) does not tell referrals apart")
            let byShown = try cli(["log", "list", "--subject", shownSubject, "--json"] + config)
            XCTAssertEqual(byShown.status, 0, byShown.errorOutput)
            let subject = try XCTUnwrap(subjects.first { $0.hasPrefix(shownSubject) })
            XCTAssertTrue(try byShown.output.split(separator: "\n").allSatisfy { try JSONValue.parse(String($0))["subjectId"]?.stringValue == subject })
            let viaAPI = try api(refex, "subject=\(shownSubject)")
            XCTAssertEqual(viaAPI.status, 200, viaAPI.body)
            XCTAssertTrue(viaAPI.json?["entries"]?.arrayValue?.allSatisfy { $0["subjectId"]?.stringValue == subject } ?? false)
        }
        XCTAssertEqual(Set(shownSubjects).count, 3)

        // The same kind of mistake in the consent list: an id that names nothing is refused, a unique prefix taken.
        for (arguments, expected) in [(["--subject", "ffffffff"], "no subject"), (["--subject", sharedSubject], "ambiguous"),
                                      (["--referral", "zz"], "hex digits")] {
            let result = try cli(["consent", "list"] + arguments + config)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.output)")
            XCTAssertTrue(result.errorOutput.contains(expected), "\(arguments): \(result.errorOutput)")
        }
        let consents = try cli(["consent", "list", "--subject", shownSubjects[0], "--json"] + config)
        XCTAssertEqual(consents.status, 0, consents.errorOutput)
        XCTAssertEqual(consents.output.split(separator: "\n").count, 1, consents.output)
        let consentTable = try cli(["consent", "list", "--subject", shownSubjects[0]] + config)
        // ID, then REFERRAL as long as it takes to tell it apart.
        let consentRow = try XCTUnwrap(consentTable.output.split(separator: "\n").last?.split(separator: " ", omittingEmptySubsequences: true))
        let consentReferral = String(try XCTUnwrap(consentRow.dropFirst().first))
        XCTAssertEqual(referrals.filter { $0.hasPrefix(consentReferral) }.count, 1, consentTable.output)

        // The log.viewed entries record the whole id the prefix stood for.
        let viewed = try refex.logEntries(event: "log.viewed").map { $0.serializedString() }.joined(separator: "\n")
        XCTAssertTrue(viewed.contains("\"subject\":\"\(subjects[0])\""), viewed)
    }

    func testTablesReadForPeopleAndTheCSVExportLosesNothing() throws {
        let refex = try RefexProcess(config: try config())
        let receipts = try (1...3).map { try submit(refex, reference: "READABLE-\($0)") }
        let disclosure = try XCTUnwrap(receipts[0]["disclosures"]?[0]?["id"]?.stringValue)
        let config = ["--config", refex.configPath]
        XCTAssertEqual(try cli(["log", "list"] + config).status, 0)

        // Newest first on request, paged with --before; log.viewed left out on request.
        let newest = try cli(["log", "list", "--newest-first", "--limit", "4", "--json"] + config)
        XCTAssertEqual(newest.status, 0, newest.errorOutput)
        let seqs = try newest.output.split(separator: "\n").map { try XCTUnwrap(try JSONValue.parse(String($0))["seq"]?.int64Value) }
        XCTAssertEqual(seqs.count, 4)
        XCTAssertEqual(seqs, seqs.sorted(by: >))
        let paged = try cli(["log", "list", "--newest-first", "--limit", "4"] + config)
        XCTAssertTrue(paged.output.contains("more: --before "), paged.output)
        let next = try cli(["log", "list", "--newest-first", "--before", String(seqs[3]), "--limit", "1", "--json"] + config)
        XCTAssertEqual(try JSONValue.parse(next.output.trimmingCharacters(in: .whitespacesAndNewlines))["seq"]?.int64Value, seqs[3] - 1)
        let apiNewest = try api(refex, "order=newest&limit=3")
        let apiSeqs = apiNewest.json?["entries"]?.arrayValue?.compactMap { $0["seq"]?.int64Value } ?? []
        XCTAssertEqual(apiSeqs, apiSeqs.sorted(by: >))
        XCTAssertEqual(apiSeqs.count, 3)
        XCTAssertNotNil(apiNewest.json?["next"]?.int64Value)

        let withoutViews = try cli(["log", "list", "--exclude-event", "log.viewed", "--limit", "1000", "--json"] + config)
        XCTAssertEqual(withoutViews.status, 0, withoutViews.errorOutput)
        let events = try withoutViews.output.split(separator: "\n").compactMap { try JSONValue.parse(String($0))["event"]?.stringValue }
        XCTAssertFalse(events.contains("log.viewed"))
        XCTAssertTrue(events.contains("referral.received"))
        let allEvents = try cli(["log", "list", "--limit", "1000", "--json"] + config).output
        XCTAssertTrue(allEvents.contains("\"event\":\"log.viewed\""), "the readings so far are there without the filter")
        let apiWithout = try api(refex, "exclude=log.viewed,referral.viewed&limit=1000")
        XCTAssertFalse(apiWithout.json?["entries"]?.arrayValue?.contains { $0["event"] == "log.viewed" } ?? true)

        // Times in the host's zone with its offset; recipients by name.
        let newYork = try cli(["log", "list", "--event", "referral.received"] + config, environment: ["TZ": "America/New_York"])
        let utc = try cli(["log", "list", "--event", "referral.received"] + config, environment: ["TZ": "UTC"])
        let seconds = TimeZone(identifier: "America/New_York")?.secondsFromGMT(for: Date()) ?? 0
        let offset = String(format: "-%02d%02d", -seconds / 3600, (-seconds % 3600) / 60)
        XCTAssertTrue(newYork.output.contains(offset), newYork.output)
        XCTAssertTrue(utc.output.contains("+0000"), utc.output)
        let authorised = try cli(["log", "list", "--event", "disclosure.authorised"] + config)
        XCTAssertTrue(authorised.output.contains("dv-support (DV service)"), authorised.output)

        // log show reads for people by default; --json is for machines.
        let shown = try cli(["log", "show", disclosure] + config)
        XCTAssertEqual(shown.status, 0, shown.errorOutput)
        XCTAssertFalse(shown.output.hasPrefix("{"), shown.output)
        for text in ["disclosure.authorised", "dv-support (DV service)", "Partner's reference  (/referenceId)",
                     "Subject › Name › Given name  (/subject/name/given)", "Subject › Date of birth  (/subject/dateOfBirth)", "the referral's other entries"] {
            XCTAssertTrue(shown.output.contains(text), "'\(text)' missing from:\n\(shown.output)")
        }
        let shownAtUTC = try cli(["log", "show", disclosure] + config, environment: ["TZ": "UTC"])
        XCTAssertTrue(shownAtUTC.output.contains("+0000"), shownAtUTC.output)
        let machine = try cli(["log", "show", String(disclosure.prefix(30)), "--json"] + config)
        XCTAssertEqual(machine.status, 0, machine.errorOutput)
        XCTAssertEqual(try JSONValue.parse(machine.output)["entry"]?["disclosureId"]?.stringValue, disclosure)

        // The CSV export holds every member of every JSONL entry, with the same value.
        let jsonl = ProjectPaths.temporaryDirectory() + "/log.jsonl"
        let csv = ProjectPaths.temporaryDirectory() + "/log.csv"
        let exportedJSONL = try cli(["log", "export"] + config)
        XCTAssertEqual(exportedJSONL.status, 0, exportedJSONL.errorOutput)
        try exportedJSONL.stdout.write(to: URL(fileURLWithPath: jsonl))
        let exportedCSV = try cli(["log", "export", "--format", "csv"] + config)
        XCTAssertEqual(exportedCSV.status, 0, exportedCSV.errorOutput)
        try exportedCSV.stdout.write(to: URL(fileURLWithPath: csv))
        let compare = try Subprocess.run("python3", ["-c", """
            import csv, json, sys
            rows = {int(r['seq']): r for r in csv.DictReader(open(sys.argv[2], newline=''))}
            entries = [json.loads(line) for line in open(sys.argv[1])]
            assert len(entries) > 10, len(entries)
            kinds = set()
            def unquoted(v): return v[1:] if v.startswith("'") else v
            for entry in entries:
                row = rows[entry['seq']]
                other = json.loads(unquoted(row['other'])) if row['other'] else {}
                for key, value in entry.items():
                    kinds.add(key)
                    if key in row and key != 'other':
                        cell = unquoted(row[key])
                        got = cell if isinstance(value, str) else json.loads(cell)
                    else:
                        got = other[key]
                    assert got == value, (entry['seq'], key, got, value)
                for key, cell in row.items():
                    if key != 'other' and cell != '':
                        assert key in entry, (entry['seq'], key)
            for needed in ['details', 'pointers', 'categories', 'prevHash', 'hash', 'recipient', 'lawfulBasis']:
                assert needed in kinds, needed
            print(len(entries))
            """, jsonl, csv])
        XCTAssertEqual(compare.status, 0, compare.errorOutput)
    }

    func testLogVerifyWithoutAPublicKeyExitsWithItsOwnStatusUnlessToldNoSignatures() throws {
        // Verifies a copy of the SQLite file (--store), then breaks the copy's chain.
        try sqliteOnly()
        let refex = try RefexProcess(config: try config())
        for index in 0..<6 { _ = try submit(refex, reference: "SIGNED-\(index)") }
        let keyPath = try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath))))["log"]?["signingKey"]?.stringValue)
        let publicKey = ProjectPaths.temporaryDirectory() + "/public.pem"
        XCTAssertEqual(try Subprocess.run("openssl", ["pkey", "-in", keyPath, "-pubout", "-out", publicKey]).status, 0)
        let copy = ProjectPaths.temporaryDirectory("refex-copy") + "/copy.db"
        try refex.sqliteFile(".backup '\(copy)'")

        let unchecked = try cli(["log", "verify", "--store", copy])
        XCTAssertEqual(unchecked.status, 3, unchecked.output + unchecked.errorOutput)
        XCTAssertTrue(unchecked.output.contains("signatures NOT checked"), unchecked.output)
        XCTAssertTrue(unchecked.errorOutput.contains("--public-key") && unchecked.errorOutput.contains("--no-signatures"), unchecked.errorOutput)
        XCTAssertEqual(try cli(["log", "verify", "--store", copy, "--json"]).status, 3)
        let accepted = try cli(["log", "verify", "--store", copy, "--no-signatures"])
        XCTAssertEqual(accepted.status, 0, accepted.errorOutput)
        XCTAssertTrue(accepted.output.contains("not checked (--no-signatures)"), accepted.output)
        XCTAssertEqual(try cli(["log", "verify", "--store", copy, "--public-key", publicKey]).status, 0)
        XCTAssertEqual(try cli(["log", "verify", "--store", copy, "--public-key", publicKey, "--no-signatures"]).status, 2)
        // The configured signing key's public half is the default.
        XCTAssertEqual(try cli(["log", "verify", "--config", refex.configPath]).status, 0)
        // A broken chain is still 1, with or without a key.
        try SQLiteFiles.run(copy, "DELETE FROM log_entries WHERE seq = 3")
        XCTAssertEqual(try cli(["log", "verify", "--store", copy]).status, 1)
        XCTAssertEqual(try cli(["log", "verify", "--store", copy, "--no-signatures"]).status, 1)

        // A config with no signing key: nothing can be checked, and it says so.
        let unsigned = try RefexProcess(config: try config(signed: false))
        _ = try submit(unsigned, reference: "UNSIGNED-1")
        XCTAssertEqual(try cli(["log", "verify", "--config", unsigned.configPath]).status, 3)
        XCTAssertEqual(try cli(["log", "verify", "--config", unsigned.configPath, "--no-signatures"]).status, 0)
    }

    func testTheExampleConfigNamesTheSigningKeyCredentialAsItDoesTheOthers() throws {
        let example = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(ProjectPaths.root)/systemd/refex.example.json"))))
        XCTAssertEqual(example["masterKey"]?.stringValue, "/etc/credstore/refex.master-key")
        XCTAssertEqual(example["log"]?["signingKey"]?.stringValue, "/etc/credstore/refex.log-signing-key")
        let unit = try String(contentsOfFile: "\(ProjectPaths.root)/systemd/refex.service", encoding: .utf8)
        for credential in ["master-key", "tls-key", "delivery-key", "log-signing-key"] {
            XCTAssertTrue(unit.contains("LoadCredential=\(credential):refex.\(credential)"), credential)
        }
    }
}
