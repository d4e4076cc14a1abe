import Foundation
import JSON
import TestSupport
import XCTest

/// Consent by purpose, leaving the service, free text that identifies no one and goes with the
/// subject, and answers that say what is true now: through the built daemon, curl and refex sink;
/// state read back through refex (the admin API, `refex … --json`).
final class ConsentWithdrawalTests: XCTestCase {
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

    // MARK: Helpers

    private func referral(_ reference: String = "W-\(UUID().uuidString.prefix(8))", _ changes: (inout JSONObject) -> Void = { _ in }) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        changes(&object)
        return .object(object)
    }

    private func request(_ method: String, _ path: String, _ body: JSONValue? = nil, as partner: String = "police") throws -> ClientResponse {
        try refex.request(method, path, body, as: partner)
    }

    private func disclosureID(_ answer: JSONValue, _ recipient: String) -> String? {
        answer["disclosures"]?.arrayValue?.first { $0["recipient"]?.stringValue == recipient }?["id"]?.stringValue
    }

    private func disclosure(_ status: ClientResponse, _ recipient: String) -> JSONValue? {
        status.json?["disclosures"]?.arrayValue?.first { $0["recipient"]?.stringValue == recipient }
    }

    private func consent(_ referralID: String, purposes: [JSONValue], obtainedAt: String = "2026-11-21T09:00:00Z") -> JSONValue {
        [
            "schema": "urn:refex:schema:consent:1", "referralId": .string(referralID), "purposes": .array(purposes),
            "obtainedBy": "PC Sam Sample", "obtainedAt": .string(obtainedAt), "method": "written",
        ]
    }

    private func delivered(_ referralID: String, _ recipient: String) -> Bool {
        (try? request("GET", "/v1/referrals/\(referralID)")).flatMap { disclosure($0, recipient)?["state"]?.stringValue } == "delivered"
    }

    private func noticeFiles(_ disclosureID: String) -> [String] {
        (sink?.files ?? []).filter { $0.hasPrefix("\(disclosureID).erasure-notice.") }
    }

    private func cli(_ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments + ["--config", refex.configPath], environment: environment, input: input, timeout: 60)
    }

    // MARK: Withdrawing one consent

    func testWithdrawingOneOfTwoConsentsStopsOnlyWhatReliedOnIt() throws {
        let sink = try XCTUnwrap(sink)
        // Consent A (in the referral) for domestic-abuse → dv-support; consent B later for general support → victim-support.
        let receipt = try request("POST", "/v1/referrals", try referral())
        XCTAssertEqual(receipt.status, 202, receipt.body)
        XCTAssertEqual(receipt.json?["status"], "in-progress", "dv-support is queued")
        let referralID = try XCTUnwrap(receipt.json?["id"]?.stringValue)
        let subjectID = try XCTUnwrap(receipt.json?["subjectId"]?.stringValue)
        let dv = try XCTUnwrap(disclosureID(receipt.json ?? .null, "dv-support"))
        let support = try XCTUnwrap(disclosureID(receipt.json ?? .null, "victim-support"))
        let consentA = try refex.consentID(referral: referralID)
        let recorded = try request("POST", "/v1/consents", consent(referralID, purposes: ["general-victim-support"]))
        XCTAssertEqual(recorded.status, 201, recorded.body)
        let consentB = try XCTUnwrap(recorded.json?["id"]?.stringValue)
        XCTAssertTrue(sink.wait { self.delivered(referralID, "dv-support") && self.delivered(referralID, "victim-support") }, refex.logText)
        XCTAssertEqual(try request("GET", "/v1/referrals/\(referralID)").json?["status"], "delivered")

        // A reason that names the subject is refused, and nothing is withdrawn.
        let naming = try request("POST", "/v1/consents/\(consentB)/withdraw", ["reason": "Alex phoned to say no more general support"])
        XCTAssertEqual(naming.status, 422, naming.body)
        XCTAssertEqual(naming.json?["rule"], "personal-value/name")
        XCTAssertEqual(try refex.consents(referral: referralID).first { $0["id"]?.stringValue == consentB }?["withdrawnAt"], .null)
        let reason = "Told the caseworker general support is no longer wanted."
        let withdrawn = try request("POST", "/v1/consents/\(consentB)/withdraw", ["reason": .string(reason)])
        XCTAssertEqual(withdrawn.status, 200, withdrawn.body)
        XCTAssertEqual(withdrawn.json?["erased"], false, "consent A is still in force")
        let entries = try request("GET", "/v1/disclosures?referral=\(referralID)&event=consent.withdrawn", as: "hub-admin")
        XCTAssertEqual(entries.json?["entries"]?[0]?["justification"]?.stringValue, reason, entries.body)
        // The entry commits to the reason's digest; the text is sealed, shown only to readers.
        let withdrawal = try XCTUnwrap(try refex.logEntries(event: "consent.withdrawn").first)
        XCTAssertEqual(withdrawal["justificationDigest"]?.stringValue?.count, 64, withdrawal.serializedString())
        XCTAssertFalse(RefexProcess.committed(withdrawal).serializedString().contains("caseworker"))
        XCTAssertEqual(try refex.recomputedLogChain()["problems"], [], "what is hashed holds no reason")
        XCTAssertEqual(withdrawn.json?["retainedBecause"], [["basis": "consent", "consentId": .string(consentA), "purposes": ["domestic-abuse"]]])
        XCTAssertEqual(withdrawn.json?["erasureNotices"], ["victim-support"])
        XCTAssertEqual(withdrawn.json?["cancelled"], [])
        let noticeID = try XCTUnwrap(withdrawn.json?["notices"]?[0]?["id"]?.stringValue)

        // The notice names the disclosure and the consent; nothing goes to dv-support.
        XCTAssertTrue(sink.wait { !self.noticeFiles(support).isEmpty }, refex.logText)
        let notice = try sink.document(try XCTUnwrap(noticeFiles(support).first))
        XCTAssertEqual(notice["disclosureId"]?.stringValue, support)
        XCTAssertEqual(notice["consentId"]?.stringValue, consentB)
        XCTAssertEqual(notice["noticeId"]?.stringValue, noticeID)
        XCTAssertEqual(notice["reason"], "consent-withdrawn")
        XCTAssertEqual(noticeFiles(dv), [])
        XCTAssertTrue(sink.requests.contains { $0.key == noticeID }, "the notice's Idempotency-Key is its id")

        // The subject's data is kept: it is still there to read.
        let export = try request("GET", "/v1/subjects/\(subjectID)/export", as: "hub-admin")
        XCTAssertEqual(export.json?["referrals"]?[0]?["document"]?["subject"]?["name"]?["given"], "Alex")
        let status = try request("GET", "/v1/referrals/\(referralID)")
        XCTAssertEqual(disclosure(status, "dv-support")?["state"], "delivered")
        XCTAssertNil(disclosure(status, "dv-support")?["reason"])
        XCTAssertEqual(disclosure(status, "victim-support")?["reason"], "consent-withdrawn")

        // Withdrawing again answers as the first time and sends nothing new.
        let queuedBefore = try refex.logCount(event: "notice.queued")
        let again = try request("POST", "/v1/consents/\(consentB)/withdraw")
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.json, withdrawn.json)
        XCTAssertEqual(try refex.logCount(event: "notice.queued"), queuedBefore)
        XCTAssertEqual(try refex.logEntries(event: "consent.withdrawn").filter { $0.serializedString().contains(consentB) }.count, 1)

        // Withdrawing A leaves no ground: erased, dv-support told, victim-support not told twice.
        let last = try request("POST", "/v1/consents/\(consentA)/withdraw")
        XCTAssertEqual(last.status, 200, last.body)
        XCTAssertEqual(last.json?["erased"], true)
        XCTAssertEqual(last.json?["erasureNotices"], ["dv-support"])
        XCTAssertTrue(sink.wait { !self.noticeFiles(dv).isEmpty }, refex.logText)
        XCTAssertEqual(try refex.logCount(event: "notice.queued", disclosure: support), 1)
        XCTAssertEqual(try request("GET", "/v1/referrals/\(referralID)").json?["status"], "erased")
        XCTAssertEqual(try cli(["log", "verify", "--no-signatures"]).status, 0)
    }

    func testWithdrawingAConsentObtainedAgainLeavesWhatTheNewerOneCoversWithItsRecipient() throws {
        let sink = try XCTUnwrap(sink)
        // Consent A (in the referral) for domestic-abuse; consent B, obtained again later, for the same purpose.
        let receipt = try request("POST", "/v1/referrals", try referral())
        let referralID = try XCTUnwrap(receipt.json?["id"]?.stringValue)
        let dv = try XCTUnwrap(disclosureID(receipt.json ?? .null, "dv-support"))
        let consentA = try refex.consentID(referral: referralID)
        XCTAssertTrue(sink.wait { self.delivered(referralID, "dv-support") }, refex.logText)
        guard case .object(var document) = consent(referralID, purposes: ["domestic-abuse"], obtainedAt: "2026-11-22T09:00:00Z") else { return }
        document["obtainedBy"] = "DC Robin Renewer"
        let renewed = try request("POST", "/v1/consents", .object(document))
        XCTAssertEqual(renewed.status, 201, renewed.body)
        let consentB = try XCTUnwrap(renewed.json?["id"]?.stringValue)
        // Who obtained a consent recorded on its own is a name free text must not repeat either.
        let naming = try request("POST", "/v1/consents/\(consentA)/withdraw", ["reason": "Renewer took the consent again with a later date"])
        XCTAssertEqual(naming.status, 422, naming.body)
        XCTAssertEqual(naming.json?["rule"], "personal-value/name")

        // Withdrawing the older copy tells nobody to erase what the newer consent still covers.
        let withdrawn = try request("POST", "/v1/consents/\(consentA)/withdraw")
        XCTAssertEqual(withdrawn.status, 200, withdrawn.body)
        XCTAssertEqual(withdrawn.json?["erased"], false)
        XCTAssertEqual(withdrawn.json?["erasureNotices"], [], withdrawn.body)
        XCTAssertEqual(withdrawn.json?["cancelled"], [])
        XCTAssertEqual(withdrawn.json?["keptUnderAnotherConsent"],
                       [["disclosureId": .string(dv), "recipient": "dv-support", "service": "domestic-abuse", "consentId": .string(consentB)]])
        XCTAssertEqual(withdrawn.json?["retainedBecause"]?[0]?["consentId"]?.stringValue, consentB)
        let status = try request("GET", "/v1/referrals/\(referralID)")
        XCTAssertEqual(disclosure(status, "dv-support")?["consentId"]?.stringValue, consentB)
        XCTAssertEqual(disclosure(status, "dv-support")?["state"], "delivered")
        let moved = try XCTUnwrap(try refex.logEntries(event: "disclosure.authorised", disclosure: dv).last).serializedString()
        XCTAssertTrue(moved.contains("\"previousConsentId\":\"\(consentA)\"") && moved.contains(consentB), moved)
        XCTAssertEqual(try refex.logCount(event: "notice.queued"), 0)

        // Withdrawing the newer one too leaves nothing: the recipient is told, naming that consent.
        let last = try request("POST", "/v1/consents/\(consentB)/withdraw")
        XCTAssertEqual(last.json?["erased"], true, last.body)
        XCTAssertEqual(last.json?["erasureNotices"], ["dv-support"])
        XCTAssertTrue(sink.wait { !self.noticeFiles(dv).isEmpty }, refex.logText)
        XCTAssertEqual(try sink.document(try XCTUnwrap(noticeFiles(dv).first))["consentId"]?.stringValue, consentB)
        XCTAssertEqual(try cli(["log", "verify", "--no-signatures"]).status, 0)
    }

    func testAnExpiredConsentIsNoGroundToKeepTheSubject() throws {
        let receipt = try request("POST", "/v1/referrals", try referral())
        let referralID = try XCTUnwrap(receipt.json?["id"]?.stringValue)
        let consentA = try refex.consentID(referral: referralID)
        guard case .object(var lapsed) = consent(referralID, purposes: ["general-victim-support"], obtainedAt: "2019-06-01T09:00:00Z") else { return }
        lapsed["expiresAt"] = "2020-01-01T00:00:00Z"
        let recorded = try request("POST", "/v1/consents", .object(lapsed))
        XCTAssertEqual(recorded.status, 201, recorded.body)
        XCTAssertEqual(recorded.json?["released"], [], "a lapsed consent releases nothing")
        let withdrawn = try request("POST", "/v1/consents/\(consentA)/withdraw")
        XCTAssertEqual(withdrawn.status, 200, withdrawn.body)
        XCTAssertEqual(withdrawn.json?["erased"], true, "the expired consent keeps nothing")
        XCTAssertNil(withdrawn.json?["retainedBecause"])
    }

    func testARestrictedSubjectIsKeptWhenItsLastConsentIsWithdrawn() throws {
        let receipt = try request("POST", "/v1/referrals", try referral())
        let referralID = try XCTUnwrap(receipt.json?["id"]?.stringValue)
        let subjectID = try XCTUnwrap(receipt.json?["subjectId"]?.stringValue)
        let consentA = try refex.consentID(referral: referralID)
        XCTAssertEqual(try request("POST", "/v1/subjects/\(subjectID)/restrict", as: "hub-admin").status, 200)
        let withdrawn = try request("POST", "/v1/consents/\(consentA)/withdraw")
        XCTAssertEqual(withdrawn.status, 200, withdrawn.body)
        XCTAssertEqual(withdrawn.json?["erased"], false, "a restriction (Art. 18) keeps the data: " + withdrawn.body)
        XCTAssertEqual(withdrawn.json?["retainedBecause"]?[0]?["basis"], "restriction")
        XCTAssertEqual(try request("GET", "/v1/subjects/\(subjectID)/export", as: "hub-admin").status, 200)
        // Leaving the service is its own request, restriction or not.
        let left = try request("POST", "/v1/subjects/\(subjectID)/withdraw", as: "hub-admin")
        XCTAssertEqual(left.status, 200, left.body)
        XCTAssertEqual(left.json?["erased"], true)
    }

    func testASubjectWithAnOverrideIsKeptWhenItsConsentIsWithdrawnAndErasedWhenItLeaves() throws {
        let sink = try XCTUnwrap(sink)
        let receipt = try request("POST", "/v1/referrals", try referral())
        let referralID = try XCTUnwrap(receipt.json?["id"]?.stringValue)
        let subjectID = try XCTUnwrap(receipt.json?["subjectId"]?.stringValue)
        let consentID = try refex.consentID(referral: referralID)
        let override: JSONValue = [
            "recipient": "victim-support", "service": "general-victim-support", "lawfulBasis": "legitimate-interests",
            "justification": "Repeat victim at high risk; support cannot wait for consent to be sought again.",
        ]
        let authorised = try request("POST", "/v1/referrals/\(referralID)/overrides", override, as: "hub-admin")
        XCTAssertEqual(authorised.status, 201, authorised.body)
        let overrideID = try XCTUnwrap(authorised.json?["id"]?.stringValue)
        XCTAssertTrue(sink.wait { self.delivered(referralID, "dv-support") && self.delivered(referralID, "victim-support") }, refex.logText)

        let withdrawn = try request("POST", "/v1/consents/\(consentID)/withdraw")
        XCTAssertEqual(withdrawn.status, 200, withdrawn.body)
        XCTAssertEqual(withdrawn.json?["erased"], false)
        XCTAssertEqual(withdrawn.json?["retainedBecause"]?[0]?["basis"], "legitimate-interests")
        XCTAssertEqual(withdrawn.json?["retainedBecause"]?[0]?["disclosureId"]?.stringValue, overrideID)
        XCTAssertEqual(withdrawn.json?["erasureNotices"], ["dv-support"])

        // Another partner cannot make the subject leave; the referring partner can.
        XCTAssertEqual(try request("POST", "/v1/subjects/\(subjectID)/withdraw", as: "partner-b").status, 404)
        let left = try request("POST", "/v1/subjects/\(subjectID)/withdraw")
        XCTAssertEqual(left.status, 200, left.body)
        XCTAssertEqual(left.json?["erased"], true)
        XCTAssertEqual(left.json?["erasureNotices"], ["victim-support"], "dv-support was told already")
        XCTAssertTrue(sink.wait { !self.noticeFiles(overrideID).isEmpty }, refex.logText)
        let queued = try refex.logCount(event: "notice.queued")
        let again = try request("POST", "/v1/subjects/\(subjectID)/withdraw")
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.json, left.json, "a repeat gets the first answer")
        XCTAssertEqual(try refex.logCount(event: "notice.queued"), queued, "and sends nothing")
        XCTAssertEqual(try refex.logCount(event: "subject.withdrew", subject: subjectID), 1)
        // The consent withdrawn before still answers with its own first withdrawal.
        XCTAssertEqual(try request("POST", "/v1/consents/\(consentID)/withdraw").json, withdrawn.json)

        // The log agrees with the store after both withdrawals and their notices (delivered, so
        // their outbox rows are gone); cutting the leaving, or a notice, is found.
        XCTAssertTrue(sink.wait { (try? self.refex.outboxItems().count) == 0 }, refex.logText)
        XCTAssertEqual(try refex.host(["log", "verify", "--no-signatures"]).status, 0)
        // Cutting entries from a copy of the store's files is SQLite-specific.
        guard SQLiteFiles.isStoreUnderTest else { return }
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        XCTAssertEqual(try verifyCopy().status, 0)
        let unlogged = try verifyCopy(cutting: "event = 'subject.withdrew'")
        XCTAssertEqual(unlogged.status, 1, unlogged.output)
        XCTAssertTrue(unlogged.errorOutput.contains("subject that left the service \(subjectID) has no subject.withdrew entry"), unlogged.errorOutput)
        let dv = try XCTUnwrap(disclosureID(receipt.json ?? .null, "dv-support"))
        let unnoticed = try verifyCopy(cutting: "event = 'notice.queued' AND disclosure_id = '\(dv)'")
        XCTAssertEqual(unnoticed.status, 1, unnoticed.output)
        XCTAssertTrue(unnoticed.errorOutput.contains("told to erase it \(dv) has no notice.queued entry"), unnoticed.errorOutput)
    }

    /// `log verify` on a copy of the stopped store, after deleting the entries `cutting` selects
    /// and re-chaining the rest (Tests/scripts/rechain_log.py, as someone who can write the file).
    private func verifyCopy(cutting: String? = nil) throws -> SubprocessResult {
        let folder = ProjectPaths.temporaryDirectory("refex-cut")
        try FileManager.default.copyItem(atPath: refex.storePath, toPath: "\(folder)/copy.db")
        try FileManager.default.copyItem(atPath: refex.storePath.replacingOccurrences(of: ".db", with: "-keys.db"), toPath: "\(folder)/copy-keys.db")
        if let cutting {
            let rechained = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/rechain_log.py", "\(folder)/copy.db", "--delete", cutting])
            XCTAssertEqual(rechained.status, 0, rechained.errorOutput)
        }
        return try Subprocess.run(ProjectPaths.refexBinary, ["log", "verify", "--store", "\(folder)/copy.db", "--no-signatures"], timeout: 60)
    }

    func testWithdrawAllForASubjectWithAnOverrideOnly() throws {
        let sink = try XCTUnwrap(sink)
        let receipt = try request("POST", "/v1/referrals", try referral { $0["consent"] = nil })
        XCTAssertEqual(receipt.json?["status"], "awaiting-consent")
        let referralID = try XCTUnwrap(receipt.json?["id"]?.stringValue)
        let subjectID = try XCTUnwrap(receipt.json?["subjectId"]?.stringValue)
        let waiting = try request("GET", "/v1/referrals/\(referralID)")
        XCTAssertEqual(disclosure(waiting, "dv-support")?["authorisedBy"], .null, "nobody has authorised a waiting disclosure")
        XCTAssertEqual(disclosure(waiting, "dv-support")?["requestedBy"], "police")
        let override: JSONValue = [
            "recipient": "dv-support", "lawfulBasis": "vital-interests",
            "justification": "Threat to life assessed at the risk conference; consent cannot be sought safely.",
        ]
        let authorised = try request("POST", "/v1/referrals/\(referralID)/overrides", override, as: "hub-admin")
        XCTAssertEqual(authorised.status, 201, authorised.body)
        XCTAssertEqual(authorised.json?["authorisedBy"], "hub-admin")
        let dv = try XCTUnwrap(authorised.json?["id"]?.stringValue)
        XCTAssertTrue(sink.wait { self.delivered(referralID, "dv-support") }, refex.logText)

        let left = try request("POST", "/v1/subjects/\(subjectID)/withdraw", as: "hub-admin")
        XCTAssertEqual(left.status, 200, left.body)
        XCTAssertEqual(left.json?["consentsWithdrawn"], [])
        XCTAssertEqual(left.json?["erasureNotices"], ["dv-support"])
        XCTAssertTrue(sink.wait { !self.noticeFiles(dv).isEmpty }, refex.logText)
        let status = try request("GET", "/v1/referrals/\(referralID)")
        XCTAssertEqual(status.json?["status"], "erased")
        XCTAssertEqual(disclosure(status, "victim-support")?["state"], "cancelled")
        let held = try refex.subjectExport(subjectID)
        XCTAssertEqual(held["referrals"]?.arrayValue?.map { $0["id"] }, [.string(referralID)])
        XCTAssertEqual(held["referrals"]?[0]?["document"], .null, "the referral's body is gone")
        // Consent recorded for an erased subject is refused, not kept.
        let late: JSONValue = [
            "schema": "urn:refex:schema:consent:1", "referralId": .string(referralID), "purposes": ["domestic-abuse"],
            "obtainedBy": "PC Sam Sample", "obtainedAt": "2026-11-21T09:00:00Z", "method": "written",
        ]
        XCTAssertEqual(try request("POST", "/v1/consents", late).status, 410)
    }

    // MARK: The same consent twice, and reading it

    func testTheSameConsentRecordedTwiceIsOneConsentAndItsLocationResolves() throws {
        let referralID = try XCTUnwrap(try request("POST", "/v1/referrals", try referral()).json?["id"]?.stringValue)
        let document = consent(referralID, purposes: ["general-victim-support"])
        let first = try request("POST", "/v1/consents", document)
        XCTAssertEqual(first.status, 201, first.body)
        let retry = try request("POST", "/v1/consents", document)
        XCTAssertEqual(retry.status, 201)
        XCTAssertEqual(retry.json, first.json, "the repeat gets the first answer")
        XCTAssertEqual(retry.header("location"), first.header("location"))
        XCTAssertEqual(try refex.consents(referral: referralID).count, 2, "the referral's own consent and this one")
        XCTAssertEqual(try refex.logCount(event: "consent.recorded", referral: referralID), 2)
        // Consent obtained again later is a new consent.
        let renewed = try request("POST", "/v1/consents", consent(referralID, purposes: ["general-victim-support"], obtainedAt: "2026-11-22T09:00:00Z"))
        XCTAssertNotEqual(renewed.json?["id"], first.json?["id"])

        let location = try XCTUnwrap(first.header("location"))
        let read = try request("GET", location)
        XCTAssertEqual(read.status, 200, read.body)
        XCTAssertEqual(read.json?["purposes"], ["general-victim-support"])
        XCTAssertEqual(read.json?["state"], "in-force")
        XCTAssertNil(read.json?["details"])
        XCTAssertFalse(read.body.contains("Sam Sample"), "who obtained it stays sealed")
        XCTAssertEqual(try request("GET", location, as: "partner-b").status, 404)
        XCTAssertEqual(try request("GET", location + "?details=true").status, 403, "only an admin may see the sealed details")
        XCTAssertEqual(try request("GET", location + "?colour=red").status, 400)
        let detailed = try request("GET", location + "?details=true", as: "hub-admin")
        XCTAssertEqual(detailed.json?["details"]?["obtainedBy"], "PC Sam Sample")
        let viewed = try refex.logEntries(event: "consent.viewed")
        let views = viewed.map { $0.serializedString() }
        XCTAssertTrue(viewed.contains { $0["actor"] == "hub-admin" && $0.serializedString().contains("\"sealedDetails\":true") }, "\(views)")
        XCTAssertTrue(viewed.contains { $0["actor"] == "police" && $0.serializedString().contains("\"sealedDetails\":false") }, "\(views)")

        // Withdrawn, the same document posted again is not answered "released" as if in force.
        let consentID = try XCTUnwrap(first.json?["id"]?.stringValue)
        let withdrawn = try request("POST", "/v1/consents/\(consentID)/withdraw")
        XCTAssertEqual(withdrawn.json?["erased"], false, withdrawn.body)
        XCTAssertEqual(try request("GET", location).json?["state"], "withdrawn")
        let stale = try request("POST", "/v1/consents", document)
        XCTAssertEqual(stale.status, 409, stale.body)
        XCTAssertTrue(stale.json?["detail"]?.stringValue?.contains("withdrawn on") ?? false, stale.body)

        // Leaving the service withdraws every consent still in force, in one answer.
        let subjectID = try XCTUnwrap(first.json?["subjectId"]?.stringValue)
        let renewedID = try XCTUnwrap(renewed.json?["id"]?.stringValue)
        let left = try request("POST", "/v1/subjects/\(subjectID)/withdraw", as: "hub-admin")
        XCTAssertEqual(left.status, 200, left.body)
        XCTAssertEqual(Set(left.json?["consentsWithdrawn"]?.arrayValue?.compactMap(\.stringValue) ?? []),
                       [try XCTUnwrap(try refex.consents(referral: referralID).first?["id"]?.stringValue), renewedID])
        let renewedAgain = try request("POST", "/v1/consents/\(renewedID)/withdraw")
        XCTAssertEqual(renewedAgain.json?["withSubject"], true, renewedAgain.body)
        XCTAssertEqual(renewedAgain.json?["erased"], true)
    }

    // MARK: Answers that say what is true now

    func testAReferralPostedAgainAfterItsSubjectWasErasedIsGone() throws {
        let body = try referral("GONE-1")
        let first = try request("POST", "/v1/referrals", body)
        let subjectID = try XCTUnwrap(first.json?["subjectId"]?.stringValue)
        XCTAssertEqual(try request("POST", "/v1/referrals", body).json, first.json, "before erasure: the first answer")
        XCTAssertEqual(try request("POST", "/v1/subjects/\(subjectID)/erase", as: "hub-admin").status, 200)
        let again = try request("POST", "/v1/referrals", body)
        XCTAssertEqual(again.status, 410, again.body)
        XCTAssertEqual(again.header("content-type"), "application/problem+json")
        XCTAssertEqual(again.json?["type"], "urn:refex:problem:erased")
        XCTAssertTrue(again.json?["detail"]?.stringValue?.contains("erased on") ?? false, again.body)
        XCTAssertFalse(again.body.contains("queued"))
        // Consent for it, and leaving the service, are gone too.
        let referralID = try XCTUnwrap(first.json?["id"]?.stringValue)
        XCTAssertEqual(try request("POST", "/v1/consents", consent(referralID, purposes: ["fraud"])).status, 410)
        XCTAssertEqual(try request("POST", "/v1/subjects/\(subjectID)/withdraw").status, 410)
        // The same referenceId with another body is gone too, not a conflict about a body no longer held.
        let changed = try request("POST", "/v1/referrals", try referral("GONE-1") { $0["riskOfHarm"] = "medium" })
        XCTAssertEqual(changed.status, 410, changed.body)
        // A consent never withdrawn permits nothing now: withdrawing it is gone, and records nothing.
        let consentID = try refex.consentID(referral: referralID)
        XCTAssertEqual(try request("GET", "/v1/consents/\(consentID)").json?["state"], "erased", "not in force")
        let withdrawn = try request("POST", "/v1/consents/\(consentID)/withdraw")
        XCTAssertEqual(withdrawn.status, 410, withdrawn.body)
        XCTAssertTrue(withdrawn.json?["detail"]?.stringValue?.contains("erased on") ?? false, withdrawn.body)
        XCTAssertEqual(try refex.logCount(event: "consent.withdrawn"), 0)
        // Every admin route that names the subject says it was erased.
        for (method, path) in [("POST", "/restrict"), ("POST", "/unrestrict"), ("PATCH", "")] {
            let body: JSONValue? = method == "PATCH" ? ["subject": ["role": "witness"]] : nil
            let answer = try request(method, "/v1/subjects/\(subjectID)\(path)", body, as: "hub-admin")
            XCTAssertEqual(answer.status, 410, "\(method) \(path): \(answer.body)")
            XCTAssertEqual(answer.json?["type"], "urn:refex:problem:erased", answer.body)
        }
    }

    func testARepeatedMailboxAcknowledgementReportsTheFirstTime() throws {
        let receipt = try request("POST", "/v1/referrals", try referral { object in
            object["supportNeeds"] = [["service": "translation"]]
            object["consent"] = ["purposes": ["translation"], "obtainedBy": "PC Sam Sample", "obtainedAt": "2026-11-20T14:30:00Z", "method": "verbal"]
        })
        let item = try XCTUnwrap(disclosureID(receipt.json ?? .null, "translation"))
        XCTAssertEqual(try request("GET", "/v1/mailbox/\(item)", as: "sink").status, 200)
        let first = try request("POST", "/v1/mailbox/\(item)/ack", as: "sink")
        XCTAssertEqual(first.status, 200, first.body)
        let firstAt = try XCTUnwrap(first.json?["acknowledgedAt"]?.stringValue)
        // Let the clock move on, so that a second answer made now would differ.
        let answered = Date()
        XCTAssertTrue(waitUntil { Date().timeIntervalSince(answered) > 0.01 })
        let second = try request("POST", "/v1/mailbox/\(item)/ack", as: "sink")
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.json?["acknowledgedAt"]?.stringValue, firstAt)
        XCTAssertEqual(try request("POST", "/v1/mailbox/\(item)/ack", as: "partner-b").status, 403)
    }
}
