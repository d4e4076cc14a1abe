import Foundation
import JSON
import TestSupport
import XCTest

/// The one disclosure rule where a decision is taken again after intake: a rectification that
/// leaves a recipient nothing, and a consent withdrawn after it lapsed. Through the built daemon,
/// curl and refex sink; state read back through refex.
final class DisclosureRuleEndToEndTests: XCTestCase {
    private var refex: RefexProcess!
    private var config: JSONObject = [:]

    override func tearDown() {
        refex?.stop()
        refex = nil
    }

    /// refex with every push recipient at `endpoint`, quick retries, and `description-only`, a
    /// domestic-abuse recipient that may receive only `/offence/description`.
    private func start(endpoint: String) throws {
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients(endpoint: endpoint)
        recipients.append([
            "id": "description-only", "name": "Reads the description", "services": ["domestic-abuse"],
            "delivery": ["mode": "push", "endpoint": .string(endpoint), "ca": .string(try TestPKI.certificate("ca"))],
            "fields": ["/offence/description"], "categories": [],
        ])
        config["recipients"] = .array(recipients)
        config["delivery"] = [
            "clientCertificate": .string(try TestPKI.certificate("refex-client")), "clientKey": .string(try TestPKI.key("refex-client")),
            "backoffBaseMilliseconds": 200, "backoffMaxSeconds": 1, "pollIntervalMilliseconds": 50, "connectTimeoutSeconds": 2,
            // A recipient that never answers is tried again and again, not paused by its circuit.
            "circuitFailures": 1000,
        ]
        self.config = config
        refex = try RefexProcess(config: config)
    }

    /// A port nothing listens on (bound, then released).
    private func deadEndpoint() throws -> String {
        let sink = try SinkProcess()
        let port = sink.port
        sink.stop()
        return "https://localhost:\(port)/deliveries"
    }

    private func request(_ method: String, _ path: String, _ body: JSONValue? = nil, as partner: String = "police") throws -> ClientResponse {
        try refex.request(method, path, body, as: partner)
    }

    private func referral(_ changes: (inout JSONObject) -> Void = { _ in }) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string("R-\(UUID().uuidString.prefix(8))")
        changes(&object)
        return .object(object)
    }

    private func consent(_ referralID: String, purposes: [JSONValue]) -> JSONValue {
        [
            "schema": "urn:refex:schema:consent:1", "referralId": .string(referralID), "purposes": .array(purposes),
            "obtainedBy": "PC Sam Sample", "obtainedAt": "2026-11-21T09:00:00Z", "method": "written",
        ]
    }

    private func disclosure(_ referralID: String, _ recipient: String) throws -> JSONValue? {
        try request("GET", "/v1/referrals/\(referralID)").json?["disclosures"]?.arrayValue?.first { $0["recipient"]?.stringValue == recipient }
    }

    private func entries(_ referralID: String, disclosure id: String, event: String) throws -> [JSONValue] {
        let page = try request("GET", "/v1/disclosures?referral=\(referralID)&event=\(event)", as: "hub-admin")
        XCTAssertEqual(page.status, 200, page.body)
        return (page.json?["entries"]?.arrayValue ?? []).filter { $0["disclosureId"]?.stringValue == id }
    }

    // MARK: Rectification

    func testARectificationThatLeavesAWaitingDisclosureNothingRefusesItThenAndThere() throws {
        try start(endpoint: try deadEndpoint())
        // Consent for another service: the disclosure to description-only waits.
        let submitted = try request("POST", "/v1/referrals", try referral { $0["consent"] = nil })
        XCTAssertEqual(submitted.status, 202, submitted.body)
        let referralID = try XCTUnwrap(submitted.json?["id"]?.stringValue)
        let subjectID = try XCTUnwrap(submitted.json?["subjectId"]?.stringValue)
        XCTAssertEqual(try disclosure(referralID, "description-only")?["state"], "awaiting-consent")
        let id = try XCTUnwrap(try disclosure(referralID, "description-only")?["id"]?.stringValue)

        let rectified = try request("PATCH", "/v1/subjects/\(subjectID)", ["offence": ["description": .null]], as: "hub-admin")
        XCTAssertEqual(rectified.status, 200, rectified.body)
        // Nothing left for it to receive: refused now, not left waiting for a consent that could only release nothing.
        let after = try XCTUnwrap(try disclosure(referralID, "description-only"))
        XCTAssertEqual(after["state"], "refused", String(decoding: after.serialized(), as: UTF8.self))
        XCTAssertEqual(after["reason"], "nothing-to-disclose")
        XCTAssertEqual(after["pointers"], [])
        XCTAssertEqual(try entries(referralID, disclosure: id, event: "disclosure.withheld").last?["reason"], "nothing-to-disclose")

        // Consent now covers the service: dv-support is released, description-only is not authorised to receive nothing.
        let recorded = try request("POST", "/v1/consents", consent(referralID, purposes: ["domestic-abuse"]))
        XCTAssertEqual(recorded.status, 201, recorded.body)
        let released = recorded.json?["released"]?.arrayValue?.compactMap { $0["recipient"]?.stringValue } ?? []
        XCTAssertEqual(released, ["dv-support"], recorded.body)
        XCTAssertEqual(try entries(referralID, disclosure: id, event: "disclosure.authorised"), [])
        XCTAssertEqual(try disclosure(referralID, "description-only")?["state"], "refused")
    }

    func testARectificationThatLeavesAQueuedDisclosureNothingWithdrawsItInsteadOfAuthorisingNothing() throws {
        try start(endpoint: try deadEndpoint())
        // Consent covers it: queued, and held there by a recipient that does not answer.
        let submitted = try request("POST", "/v1/referrals", try referral())
        XCTAssertEqual(submitted.status, 202, submitted.body)
        let referralID = try XCTUnwrap(submitted.json?["id"]?.stringValue)
        let subjectID = try XCTUnwrap(submitted.json?["subjectId"]?.stringValue)
        let id = try XCTUnwrap(try disclosure(referralID, "description-only")?["id"]?.stringValue)
        XCTAssertEqual(try disclosure(referralID, "description-only")?["state"], "queued")

        let rectified = try request("PATCH", "/v1/subjects/\(subjectID)", ["offence": ["description": .null]], as: "hub-admin")
        XCTAssertEqual(rectified.status, 200, rectified.body)
        let after = try XCTUnwrap(try disclosure(referralID, "description-only"))
        XCTAssertEqual(after["state"], "refused", String(decoding: after.serialized(), as: UTF8.self))
        XCTAssertEqual(after["reason"], "nothing-to-disclose")
        // The only authorisation logged is the first one, with the description; none of nothing.
        let authorised = try entries(referralID, disclosure: id, event: "disclosure.authorised")
        XCTAssertEqual(authorised.count, 1, authorised.map { String(decoding: $0.serialized(), as: UTF8.self) }.joined(separator: "\n"))
        XCTAssertEqual(authorised.first?["pointers"], ["/offence/description"])
        XCTAssertEqual(try entries(referralID, disclosure: id, event: "disclosure.withheld").last?["reason"], "nothing-to-disclose")
        let outbox = try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "list", "--json", "--config", refex.configPath])
        XCTAssertEqual(outbox.status, 0, outbox.errorOutput)
        XCTAssertFalse(outbox.output.contains(id), "out of the outbox")
        // A recipient whose field is still there is unaffected.
        XCTAssertEqual(try disclosure(referralID, "dv-support")?["state"], "queued")
    }

    // MARK: Configuration

    func testARecipientWhoseFieldsWereNarrowedByAReloadIsNotSentWhatItMayNoLongerReceive() throws {
        try start(endpoint: try deadEndpoint())
        let submitted = try request("POST", "/v1/referrals", try referral())
        XCTAssertEqual(submitted.status, 202, submitted.body)
        let referralID = try XCTUnwrap(submitted.json?["id"]?.stringValue)
        let dv = try XCTUnwrap(try disclosure(referralID, "dv-support"))
        let id = try XCTUnwrap(dv["id"]?.stringValue)
        XCTAssertEqual(dv["state"], "queued")
        XCTAssertTrue((dv["pointers"]?.arrayValue ?? []).contains("/subject/dateOfBirth"), String(decoding: dv.serialized(), as: UTF8.self))
        XCTAssertTrue(refex.waitForLog("delivery will be retried"), refex.logText)
        // Another referral waits for consent.
        let waiting = try request("POST", "/v1/referrals", try referral { $0["consent"] = nil })
        XCTAssertEqual(waiting.status, 202, waiting.body)
        let waitingID = try XCTUnwrap(waiting.json?["id"]?.stringValue)
        XCTAssertEqual(try disclosure(waitingID, "dv-support")?["state"], "awaiting-consent")

        // dv-support may no longer receive the date of birth, nor health data.
        var recipients = config["recipients"]?.arrayValue ?? []
        for index in recipients.indices {
            guard case .object(var recipient) = recipients[index], recipient["id"] == "dv-support" else { continue }
            recipient["fields"] = ["/referenceId", "/subject/name"]
            recipient["categories"] = []
            recipients[index] = .object(recipient)
        }
        config["recipients"] = .array(recipients)
        try refex.rewriteConfig(config)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded"), refex.logText)

        // At the next attempt it is withheld, not sent, and says why.
        XCTAssertTrue(waitUntil(timeout: 30) { (try? self.disclosure(referralID, "dv-support"))??["state"] == "refused" }, refex.logText)
        XCTAssertEqual(try disclosure(referralID, "dv-support")?["reason"], "fields-not-allowed")
        XCTAssertEqual(try entries(referralID, disclosure: id, event: "disclosure.withheld").last?["reason"], "fields-not-allowed")
        // A recipient whose configuration did not change is unaffected.
        XCTAssertEqual(try disclosure(referralID, "description-only")?["state"], "queued")

        // Consent for the waiting one comes after the reload: what was decided before it is not released, but refused.
        let recorded = try request("POST", "/v1/consents", consent(waitingID, purposes: ["domestic-abuse"]))
        XCTAssertEqual(recorded.status, 201, recorded.body)
        let released = recorded.json?["released"]?.arrayValue?.compactMap { $0["recipient"]?.stringValue } ?? []
        XCTAssertEqual(released, ["description-only"], recorded.body)
        let refused = try XCTUnwrap(try disclosure(waitingID, "dv-support"))
        XCTAssertEqual(refused["state"], "refused", String(decoding: refused.serialized(), as: UTF8.self))
        XCTAssertEqual(refused["reason"], "fields-not-allowed")
    }

    // MARK: Withdrawal

    func testWithdrawingAConsentThatLapsedLeavesTheDisclosureWaitingForANewOne() throws {
        try start(endpoint: try deadEndpoint())
        let expiry = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2))
        let submitted = try request("POST", "/v1/referrals", try referral { object in
            if case .object(var consent)? = object["consent"] {
                consent["expiresAt"] = .string(expiry)
                object["consent"] = .object(consent)
            }
        })
        XCTAssertEqual(submitted.status, 202, submitted.body)
        let referralID = try XCTUnwrap(submitted.json?["id"]?.stringValue)
        let dv = try XCTUnwrap(try disclosure(referralID, "dv-support"))
        let id = try XCTUnwrap(dv["id"]?.stringValue)
        let lapsing = try XCTUnwrap(dv["consentId"]?.stringValue)
        // Another consent keeps the subject's data held when the first is withdrawn.
        let other = try request("POST", "/v1/consents", consent(referralID, purposes: ["general-victim-support"]))
        XCTAssertEqual(other.status, 201, other.body)
        // The consent lapses before dv-support answers: withheld at the next attempt.
        XCTAssertTrue(waitUntil(timeout: 30) { (try? self.disclosure(referralID, "dv-support"))??["state"] == "awaiting-consent" }, refex.logText)
        let withheld = try entries(referralID, disclosure: id, event: "disclosure.withheld").last
        XCTAssertEqual(withheld?["reason"], "consent-expired")
        XCTAssertEqual(withheld?["consentId"]?.stringValue, lapsing, "the entry says which consent lapsed")
        // Waiting again, it has no authoriser (README, "Disclosure states").
        let waiting = try XCTUnwrap(try disclosure(referralID, "dv-support"))
        XCTAssertEqual(waiting["lawfulBasis"], .null, String(decoding: waiting.serialized(), as: UTF8.self))
        XCTAssertEqual(waiting["consentId"], .null)
        XCTAssertEqual(waiting["authorisedBy"], .null)
        XCTAssertEqual(waiting["requestedBy"], "police")

        // Withdrawing the lapsed consent does not cancel what no longer relies on it.
        let withdrawn = try request("POST", "/v1/consents/\(lapsing)/withdraw")
        XCTAssertEqual(withdrawn.status, 200, withdrawn.body)
        XCTAssertEqual(withdrawn.json?["erased"], false, withdrawn.body)
        // (description-only, still queued on it if not yet tried since it lapsed, may be cancelled; dv-support is not.)
        let cancelled = withdrawn.json?["cancelled"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        XCTAssertFalse(cancelled.contains(id), withdrawn.body)
        XCTAssertEqual(try disclosure(referralID, "dv-support")?["state"], "awaiting-consent")
        XCTAssertEqual(try entries(referralID, disclosure: id, event: "disclosure.cancelled"), [])

        // A new consent releases it.
        let renewed = try request("POST", "/v1/consents", consent(referralID, purposes: ["domestic-abuse"]))
        XCTAssertEqual(renewed.status, 201, renewed.body)
        let released = renewed.json?["released"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        XCTAssertTrue(released.contains(id), renewed.body)
        let now = try XCTUnwrap(try disclosure(referralID, "dv-support"))
        XCTAssertEqual(now["state"], "queued")
        XCTAssertEqual(now["consentId"]?.stringValue, renewed.json?["id"]?.stringValue)
    }
}
