import Foundation
import JSON
import TestSupport
import XCTest

/// Free text that reaches the disclosure log: refused when it identifies someone, sealed under
/// the subject's key, shown while the subject exists and gone with it, through the built daemon,
/// curl and the refex command line; state read back through refex, and the store's files read
/// with strings where that is the point (SQLite only).
final class FreeTextTests: XCTestCase {
    private var sink: SinkProcess?
    private var refex: RefexProcess!

    override func setUpWithError() throws {
        let sink = try SinkProcess()
        self.sink = sink
        var config = try RefexProcess.config()
        config["recipients"] = .array(try RefexProcess.recipients(endpoint: sink.endpoint))
        config["delivery"] = [
            "clientCertificate": .string(try TestPKI.certificate("refex-client")), "clientKey": .string(try TestPKI.key("refex-client")),
            "backoffBaseMilliseconds": 200, "backoffMaxSeconds": 2, "pollIntervalMilliseconds": 50,
        ]
        refex = try RefexProcess(config: config)
    }

    override func tearDown() {
        refex?.stop()
        refex = nil
        sink?.stop()
        sink = nil
    }

    private func request(_ method: String, _ path: String, _ body: JSONValue? = nil, as partner: String = "police") throws -> ClientResponse {
        try refex.request(method, path, body, as: partner)
    }

    /// The example referral without consent: every disclosure waits, so overrides are needed.
    private func submitWithoutConsent() throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string("F-\(UUID().uuidString.prefix(8))")
        object["consent"] = nil
        let answer = try request("POST", "/v1/referrals", .object(object))
        XCTAssertEqual(answer.status, 202, answer.body)
        return answer.json ?? .null
    }

    private func override(_ referralID: String, _ justification: String) throws -> ClientResponse {
        try request("POST", "/v1/referrals/\(referralID)/overrides", [
            "recipient": "dv-support", "lawfulBasis": "vital-interests", "justification": .string(justification),
        ], as: "hub-admin")
    }

    private func cli(_ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments + ["--config", refex.configPath], environment: environment, input: input, timeout: 60)
    }

    // MARK: Refusals

    func testAJustificationHoldingAPersonalValueOfTheReferralOrAPatternIsRefusedNamingTheRule() throws {
        let referralID = try XCTUnwrap(try submitWithoutConsent()["id"]?.stringValue)
        // (the value, a justification holding it, the rule that must refuse it)
        let cases: [(String, String, String)] = [
            ("Alex", "Alex is at high risk of serious harm tonight", "personal-value/name"),
            ("Example", "The EXAMPLE household is at high risk of harm", "personal-value/name"),
            ("Sam", "Officer Sam assessed a high risk of serious harm", "personal-value/name"),
            ("1990-04-12", "Born 1990-04-12 and at high risk of serious harm", "personal-value/date-of-birth"),
            ("12/04/1990", "Born 12/04/1990 and at high risk of serious harm", "personal-value/date-of-birth"),
            ("12 April 1990", "Born 12 April 1990 and at high risk of serious harm", "personal-value/date-of-birth"),
            ("+44 7700 900123", "Call back on +44 7700 900123 as the risk is high", "personal-value/phone"),
            ("07700 900123", "Call back on 07700 900123 as the risk is high", "personal-value/phone"),
            ("alex.example@example.org", "Write to alex.example@example.org about the high risk", "personal-value/email"),
            ("Testtown", "Risk of harm in Testtown is assessed as high", "personal-value/address"),
            ("TE1 1ST", "Risk of serious harm near TE1 1ST is assessed high", "personal-value/postcode"),
            ("te11st", "Risk of serious harm near te11st is assessed high", "personal-value/postcode"),
            ("020 7946 0018", "Call the duty desk on 020 7946 0018 about the risk", "pattern/phone"),
            ("+33 1 23 45 67 89", "Call the family abroad on +33 1 23 45 67 89 about it", "pattern/phone"),
            ("duty.desk@agency.org", "Write to duty.desk@agency.org about the high risk", "pattern/email"),
            ("SW1A 1AA", "Risk of serious harm near SW1A 1AA is assessed high", "pattern/postcode"),
            ("M1 1AE", "Risk of serious harm near m1 1ae is assessed high", "pattern/postcode"),
            ("QQ 12 34 56 C", "The NI number QQ 12 34 56 C confirms the identity", "pattern/ni-number"),
            ("QQ123456C", "The NI number QQ123456C confirms the identity here", "pattern/ni-number"),
            ("", "Immediately necessary!!!", "too-short"),
        ]
        for (value, justification, rule) in cases {
            let refused = try override(referralID, justification)
            XCTAssertEqual(refused.status, 422, "\(justification): \(refused.body)")
            XCTAssertEqual(refused.json?["type"], "urn:refex:problem:free-text-refused", refused.body)
            XCTAssertEqual(refused.json?["rule"]?.stringValue, rule, justification)
            XCTAssertEqual(refused.json?["errors"]?[0]?["instanceLocation"], "/justification")
            XCTAssertTrue(refused.json?["detail"]?.stringValue?.contains("without identifying anyone") ?? false, refused.body)
            if !value.isEmpty {
                XCTAssertFalse(refused.body.lowercased().contains(value.lowercased()), "the problem echoes \(value): \(refused.body)")
            }
        }
        // Nothing refused was kept: no disclosure holds a justification, none was authorised.
        let disclosures = try XCTUnwrap(try refex.referralStatus(referralID)["disclosures"]?.arrayValue)
        XCTAssertFalse(disclosures.isEmpty)
        XCTAssertTrue(disclosures.allSatisfy { $0["justification"] == nil && $0["lawfulBasis"] == .null }, "\(disclosures)")
        XCTAssertEqual(try refex.logCount(event: "disclosure.authorised", referral: referralID), 0, "nothing refused was kept")
        // Words that only resemble a value are not refused, and a plain reason is accepted.
        let plain = try override(referralID, "High risk of serious harm assessed at MARAC on 2026-11-20; subject unreachable.")
        XCTAssertEqual(plain.status, 201, plain.body)
    }

    func testTheReasonForAnErasureIsCheckedLikeAJustification() throws {
        let subjectID = try XCTUnwrap(try submitWithoutConsent()["subjectId"]?.stringValue)
        let missing = try cli(["subject", "erase", subjectID, "--yes"])
        XCTAssertEqual(missing.status, 2, missing.errorOutput)
        XCTAssertTrue(missing.errorOutput.contains("--reason is required"), missing.errorOutput)
        let naming = try cli(["subject", "erase", subjectID, "--yes", "--reason", "Alex asked by letter for everything to be deleted"])
        XCTAssertEqual(naming.status, 2, naming.errorOutput)
        XCTAssertTrue(naming.errorOutput.contains("personal-value/name"), naming.errorOutput)
        XCTAssertFalse(naming.errorOutput.contains("Alex"), naming.errorOutput)
        let pattern = try cli(["subject", "erase", subjectID, "--yes", "--reason", "Requested by email from someone@home.org today"])
        XCTAssertEqual(pattern.status, 2, pattern.errorOutput)
        XCTAssertTrue(pattern.errorOutput.contains("pattern/email"), pattern.errorOutput)
        XCTAssertEqual(try refex.subjectExport(subjectID)["erasedAt"], .null, "nothing was erased")
        let api = try request("POST", "/v1/subjects/\(subjectID)/erase", ["reason": "Erase Alex now please, as asked"], as: "hub-admin")
        XCTAssertEqual(api.status, 422, api.body)
        XCTAssertEqual(api.json?["rule"], "personal-value/name")
        XCTAssertEqual(try request("POST", "/v1/subjects/\(subjectID)/erase", ["colour": "red"], as: "hub-admin").status, 400)

        // A restriction's reason too: refused when it names someone, shown while the subject exists.
        let refused = try cli(["subject", "restrict", subjectID, "--reason", "Restricted while Example disputes the accuracy"])
        XCTAssertEqual(refused.status, 2, refused.errorOutput)
        XCTAssertEqual(try refex.subjectExport(subjectID)["restricted"], false)
        let restricted = try cli(["subject", "restrict", subjectID, "--reason", "Accuracy of the referral is disputed; held until checked."])
        XCTAssertEqual(restricted.status, 0, restricted.errorOutput)
        let listed = try cli(["log", "list", "--subject", subjectID, "--event", "subject.restricted", "--json"])
        XCTAssertTrue(listed.output.contains("Accuracy of the referral is disputed"), listed.output)
        let unrestrict = try request("POST", "/v1/subjects/\(subjectID)/unrestrict", ["reason": "Checked: phone 0161 496 0000 is right"], as: "hub-admin")
        XCTAssertEqual(unrestrict.json?["rule"], "pattern/phone", unrestrict.body)
    }

    // MARK: Sealed, shown, and gone with the subject

    func testJustificationAndReasonAreNeverOnDiskInPlainTextAndGoWithTheSubject() throws {
        let sink = try XCTUnwrap(sink)
        let receipt = try submitWithoutConsent()
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let subjectID = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let justification = "Serious harm foreseen by the duty inspector; consent unobtainable today."
        let reason = "Subject access team confirmed the erasure request in writing."
        let authorised = try override(referralID, justification)
        XCTAssertEqual(authorised.status, 201, authorised.body)
        XCTAssertEqual(authorised.json?["justification"]?.stringValue, justification)
        let disclosureID = try XCTUnwrap(authorised.json?["id"]?.stringValue)
        XCTAssertTrue(sink.wait { sink.files.contains("\(disclosureID).json") }, refex.logText)

        // While the subject exists: shown in the API, the CLI and exports; the entry holds a digest.
        let status = try request("GET", "/v1/referrals/\(referralID)")
        let shown = status.json?["disclosures"]?.arrayValue?.first { $0["id"]?.stringValue == disclosureID }
        XCTAssertEqual(shown?["justification"]?.stringValue, justification)
        let listed = try cli(["log", "list", "--referral", referralID, "--json"])
        XCTAssertTrue(listed.output.contains(justification), listed.output)
        let logged = try XCTUnwrap(try refex.logEntries(event: "disclosure.authorised", disclosure: disclosureID).first)
        XCTAssertEqual(logged["justification"]?.stringValue, justification, "opened for the reader")
        let entry = RefexProcess.committed(logged).serializedString()
        XCTAssertFalse(entry.contains("inspector"), entry)
        XCTAssertEqual(logged["justificationDigest"]?.stringValue?.count, 64, entry)
        XCTAssertEqual(try refex.recomputedLogChain()["problems"], [], "the entry hashed holds the digest alone")
        if SQLiteFiles.isStoreUnderTest {
            // Without the master key (--store, a store file) the text is said to be sealed, not erased.
            let keyless = try Subprocess.run(ProjectPaths.refexBinary, ["log", "list", "--referral", referralID, "--json", "--store", refex.storePath])
            XCTAssertTrue(keyless.output.contains("(sealed: readable only with the master key)"), keyless.output + keyless.errorOutput)
            XCTAssertFalse(keyless.output.contains("inspector"))
        }

        // Erase from the host under sudo: what will happen is shown, and it waits for "yes".
        let environment = ["SUDO_USER": "alice"]
        let declined = try cli(["subject", "erase", subjectID, "--reason", reason], input: Data("no\n".utf8), environment: environment)
        XCTAssertEqual(declined.status, 1, declined.errorOutput)
        XCTAssertTrue(declined.errorOutput.contains("dv-support"), "the recipients to be told: \(declined.errorOutput)")
        XCTAssertTrue(declined.errorOutput.contains(referralID), declined.errorOutput)
        XCTAssertEqual(try refex.subjectExport(subjectID)["erasedAt"], .null)
        let erased = try cli(["subject", "erase", subjectID, "--reason", reason], input: Data("yes\n".utf8), environment: environment)
        XCTAssertEqual(erased.status, 0, erased.errorOutput)
        XCTAssertEqual(try JSONValue.parse(erased.output)["erasureNotices"], ["dv-support"])
        let erasures = try refex.logEntries(event: "subject.erased", subject: subjectID)
        XCTAssertEqual(erasures.count, 1)
        let erasure = erasures.first ?? .null
        XCTAssertEqual(erasure["actor"], "host:alice via sudo", erasure.serializedString())
        XCTAssertEqual(erasure["justificationDigest"]?.stringValue?.count, 64, erasure.serializedString())

        // Nothing of either text anywhere in the store's files, WAL and journal included, and the
        // sealed texts deleted, not only their key (SQLite: the files are the store).
        if SQLiteFiles.isStoreUnderTest { try assertTextsGoneFromTheStoreFiles() }

        // After erasure every reader is told where the text went, and the chain still verifies.
        let show = try cli(["log", "show", disclosureID, "--json"])
        XCTAssertEqual(show.status, 0, show.errorOutput)
        XCTAssertTrue(show.output.contains("(erased with the subject)"), show.output)
        XCTAssertFalse(show.output.contains("inspector"))
        let api = try request("GET", "/v1/disclosures?referral=\(referralID)", as: "hub-admin")
        XCTAssertTrue(api.body.contains("(erased with the subject)"), api.body)
        let export = try cli(["log", "export", "--format", "csv"])
        XCTAssertTrue(export.output.contains("(erased with the subject)"), export.output)
        let subjectExport = try request("GET", "/v1/subjects/\(subjectID)/export", as: "hub-admin")
        XCTAssertTrue(subjectExport.body.contains("(erased with the subject)"), subjectExport.body)
        XCTAssertEqual(try cli(["log", "verify", "--no-signatures"]).status, 0)

        // Erasing again says when it was, and sends nothing.
        let again = try cli(["subject", "erase", subjectID, "--reason", reason, "--yes"])
        XCTAssertEqual(again.status, 0, again.errorOutput)
        XCTAssertTrue(again.errorOutput.contains("already erased"), again.errorOutput)
        XCTAssertEqual(try refex.logCount(event: "subject.erased", subject: subjectID), 1)
    }

    /// `strings` on every file in the store's folder finds neither text of the erasure test, and
    /// no sealed free text is left.
    private func assertTextsGoneFromTheStoreFiles() throws {
        let folder = (refex.storePath as NSString).deletingLastPathComponent
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        XCTAssertTrue(files.contains("refex.db") && files.contains("refex-keys.db"), "\(files)")
        for file in files {
            let text = try Subprocess.run("strings", ["\(folder)/\(file)"]).output
            for secret in ["inspector", "unobtainable", "Subject access team", "in writing"] {
                XCTAssertFalse(text.contains(secret), "\(secret) is readable in \(file)")
            }
        }
        XCTAssertEqual(try refex.sqliteFile("SELECT count(*) FROM free_texts"), "0")
    }

    func testWhatIsTypedIntoALogFilterIsRecordedOnlyWhenItNamesSomethingKnown() throws {
        let subjectID = try XCTUnwrap(try submitWithoutConsent()["subjectId"]?.stringValue)
        // Names typed where ids and codes belong (whatever the answer) never reach the log.
        let query = "subject=Alex%20Example&referral=Jane%20Doe&disclosure=Sam%20Sample&recipient=Jo%20Bloggs"
            + "&event=Alex%20Example&basis=Jane%20Doe&actor=Sam%20Sample"
        _ = try request("GET", "/v1/disclosures?\(query)", as: "hub-admin")
        _ = try cli(["log", "list", "--subject", "Alex Example"])
        _ = try cli(["log", "list", "--actor", "Sam Sample"])
        let everything = try refex.logEntries().map { $0.serializedString().lowercased() }
        XCTAssertGreaterThanOrEqual(everything.count, 3, "the referral and its decisions at least")
        for name in ["Alex", "Jane", "Sam", "Bloggs"] {
            XCTAssertEqual(everything.filter { $0.contains(name.lowercased()) }, [], name)
        }
        // What names something known is recorded as it was asked.
        let listed = try request("GET", "/v1/disclosures?subject=\(subjectID)&event=disclosure.withheld&actor=police", as: "hub-admin")
        XCTAssertEqual(listed.status, 200, listed.body)
        let viewed = try XCTUnwrap(try refex.logViewedByPartners().last).serializedString()
        XCTAssertTrue(viewed.contains("\"subject\":\"\(subjectID)\"") && viewed.contains("\"event\":\"disclosure.withheld\"")
                      && viewed.contains("\"actor\":\"police\"") && viewed.contains("\"subjectId\":\"\(subjectID)\""), viewed)
    }

    func testAJustificationKeptInPlainTextByAnOlderRefexIsSealedAtStart() throws {
        try sqliteOnly()
        let receipt = try submitWithoutConsent()
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let authorised = try override(referralID, "Risk assessed as high at the conference; consent not safe to seek.")
        let disclosureID = try XCTUnwrap(authorised.json?["id"]?.stringValue)
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        // What an older refex left: the text in plain text, no commitment.
        let old = "Old plain text kept by an earlier refex for this override."
        try refex.sqliteFile("""
            UPDATE disclosures SET justification = '\(old)', justification_digest = NULL WHERE id = '\(disclosureID)';
            DELETE FROM free_texts;
            """)
        let config = try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath)))).objectValue)
        refex = try RefexProcess(config: config)
        XCTAssertTrue(waitUntil {
            (try? self.refex.sqliteFile("SELECT justification IS NULL AND length(justification_digest) = 64 FROM disclosures WHERE id = '\(disclosureID)'")) == "1"
        }, refex.logText)
        XCTAssertTrue(refex.waitForLog("sealed justifications kept in plain text"), refex.logText)
        let status = try request("GET", "/v1/referrals/\(referralID)")
        let shown = status.json?["disclosures"]?.arrayValue?.first { $0["id"]?.stringValue == disclosureID }
        XCTAssertEqual(shown?["justification"]?.stringValue, old, "the same text, now sealed")
        XCTAssertEqual(try refex.sqliteFile("SELECT count(*) FROM free_texts"), "1")
    }
}
