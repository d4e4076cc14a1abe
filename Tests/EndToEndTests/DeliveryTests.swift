import Foundation
import JSON
import TestSupport
import XCTest

/// Delivery to `refex sink` processes over mutual TLS with real certificates, and pull mailboxes.
final class DeliveryTests: XCTestCase {
    /// A config whose push recipients go to `endpoints` (by recipient id), with quick retries.
    private func config(
        dv: String, support: String, dvCA: String? = nil, maxAgeSeconds: Int = 3600, extra: (inout JSONObject) -> Void = { _ in }
    ) throws -> JSONObject {
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients()
        for index in recipients.indices {
            guard case .object(var recipient) = recipients[index], case .object(var delivery)? = recipient["delivery"] else { continue }
            if recipient["id"] == "dv-support" {
                delivery["endpoint"] = .string(dv)
                if let dvCA { delivery["ca"] = .string(dvCA) }
            }
            if recipient["id"] == "victim-support" { delivery["endpoint"] = .string(support) }
            recipient["delivery"] = .object(delivery)
            recipients[index] = .object(recipient)
        }
        config["recipients"] = .array(recipients)
        config["delivery"] = [
            "clientCertificate": .string(try TestPKI.certificate("refex-client")), "clientKey": .string(try TestPKI.key("refex-client")),
            "backoffBaseMilliseconds": 200, "backoffMaxSeconds": 2, "maxAgeSeconds": .number(JSONNumber(maxAgeSeconds)),
            "connectTimeoutSeconds": 2, "timeoutSeconds": 5, "pollIntervalMilliseconds": 50, "circuitFailures": 50,
        ]
        extra(&config)
        return config
    }

    private func referral(_ reference: String = "D-\(UUID().uuidString.prefix(8))", purposes: [JSONValue] = ["domestic-abuse"]) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        if case .object(var consent)? = object["consent"] {
            consent["purposes"] = .array(purposes)
            object["consent"] = .object(consent)
        }
        return .object(object)
    }

    private func submit(_ refex: RefexProcess, _ body: JSONValue, as partner: String = "police") throws -> JSONValue {
        let file = ProjectPaths.temporaryDirectory() + "/r.json"
        try Data(body.serialized()).write(to: URL(fileURLWithPath: file))
        let (result, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: partner
        )
        XCTAssertEqual(response?.status, 202, result.output + result.errorOutput)
        return response?.json ?? .null
    }

    private func disclosureID(_ receipt: JSONValue, _ recipient: String) -> String? {
        receipt["disclosures"]?.arrayValue?.first { $0["recipient"]?.stringValue == recipient }?["id"]?.stringValue
    }

    private func state(_ refex: RefexProcess, referral: String, recipient: String) throws -> String? {
        let status = try Curl.request(["\(refex.baseURL)/v1/referrals/\(referral)"], as: "police").response?.json
        return status?["disclosures"]?.arrayValue?.first { $0["recipient"]?.stringValue == recipient }?["state"]?.stringValue
    }

    /// A port nothing listens on (bound, then released).
    private func freePort() throws -> UInt16 {
        let sink = try SinkProcess()
        let port = sink.port
        sink.stop()
        return port
    }

    // MARK: Push

    func testDisclosureIsDeliveredOnceWithOnlyTheAllowedFields() throws {
        let sink = try SinkProcess()
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
        let receipt = try submit(refex, try referral())
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(sink.wait { sink.files.contains("\(id).json") }, "not delivered: \(refex.logText)")
        let delivered = try sink.document("\(id).json")
        XCTAssertEqual(delivered["disclosureId"]?.stringValue, id)
        XCTAssertEqual(delivered["referralId"], receipt["id"])
        XCTAssertEqual(delivered["service"], "domestic-abuse")
        XCTAssertEqual(delivered["lawfulBasis"], "consent")
        XCTAssertNotNil(delivered["consentId"]?.stringValue)
        let data = try XCTUnwrap(delivered["data"])
        XCTAssertEqual(data["subject"]?["name"]?["family"], "Example")
        XCTAssertNil(data["subject"]?["contact"]?["email"], "unsafe contact details must not be sent")
        XCTAssertNil(data["consent"], "the consent block is not an allowed field")
        XCTAssertNil(data["referringOfficer"])
        XCTAssertTrue(sink.wait { (try? self.state(refex, referral: receipt["id"]?.stringValue ?? "", recipient: "dv-support")) == "delivered" })
        // The sink journals a request before answering it, and refex records delivered only on the answer.
        XCTAssertEqual(sink.requests.filter { $0.key == id }.count, 1)
        XCTAssertEqual(try refex.logCount(event: "disclosure.delivered", disclosure: id), 1)
    }

    func testRecipientDownThenUpIsDeliveredAfterItRecoversWithoutATightLoop() throws {
        let port = try freePort()
        let endpoint = "https://localhost:\(port)/deliveries"
        let refex = try RefexProcess(config: try config(dv: endpoint, support: endpoint))
        let receipt = try submit(refex, try referral())
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        // While it is down, attempts back off: 200 ms, 400 ms, 800 ms... (with jitter, at least half of each).
        XCTAssertTrue(refex.waitForLog("delivery will be retried", count: 3, timeout: 10), refex.logText)
        let sink = try SinkProcess(port: port)
        XCTAssertTrue(sink.wait { sink.files.contains("\(id).json") }, refex.logText)
        // The sink writes the file before it answers; refex records the delivery on the answer.
        XCTAssertTrue(sink.wait { (try? refex.logCount(event: "disclosure.delivered")) == 1 }, refex.logText)
        let (_, metrics) = try Curl.request(["\(refex.opsURL)/metrics"], as: nil)
        let line = metrics?.body.split(separator: "\n").first { $0.hasPrefix("refex_delivery_attempts_total{recipient=\"dv-support\"}") }
        let count = Int(line?.split(separator: " ").last ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(count, 4)
        XCTAssertLessThan(count, 15, "retries must back off, not spin")
    }

    func testRetryAfterIsHonoured() throws {
        let sink = try SinkProcess(options: ["--fail-first", "1", "--fail-status", "429", "--retry-after", "2"])
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
        let id = try XCTUnwrap(disclosureID(try submit(refex, try referral()), "dv-support"))
        // Waiting on the journal, written before each answer, not on the file, written before the journal.
        XCTAssertTrue(sink.wait { sink.requests.contains { $0.key == id && $0.status == 201 } })
        let attempts = sink.requests.filter { $0.key == id || $0.status == 429 }
        XCTAssertEqual(attempts.map(\.status), [429, 201])
        XCTAssertGreaterThanOrEqual(attempts[1].time - attempts[0].time, 1900, "Retry-After: 2 was not honoured")
    }

    /// The gap between a disclosure's first (refused) attempt and its delivery at `sink`.
    private func retryGap(_ sink: SinkProcess, refex: RefexProcess, status: Int) throws -> Int64 {
        let id = try XCTUnwrap(disclosureID(try submit(refex, try referral()), "dv-support"))
        XCTAssertTrue(sink.wait(timeout: 30) { sink.requests.contains { $0.key == id && $0.status == 201 } }, refex.logText)
        let attempts = sink.requests.filter { $0.key == id }
        XCTAssertEqual(attempts.map(\.status), [status, 201])
        guard attempts.count == 2 else { return -1 }
        return attempts[1].time - attempts[0].time
    }

    func testRetryAfterAsAnHTTPDateIsHonouredInEachForm() throws {
        // The date is 3 s after the refusal, to the second: refex must wait at least 2 s, where its
        // own backoff (200 ms base) would come back at once.
        for (form, status) in [("imf", 503), ("rfc850", 429), ("asctime", 503), ("imf", 429)] {
            let sink = try SinkProcess(options: ["--fail-first", "1", "--fail-status", String(status), "--retry-after", "3", "--retry-after-date", form])
            let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
            let gap = try retryGap(sink, refex: refex, status: status)
            XCTAssertGreaterThanOrEqual(gap, 1950, "Retry-After as \(form) on \(status) was not honoured")
            XCTAssertLessThan(gap, 15_000, "\(form) on \(status)")
            refex.stop()
            sink.stop()
        }
    }

    func testRetryAfterThatIsNotDigitsOrADateIsIgnored() throws {
        // "+30" is not delay-seconds: the normal backoff applies, not 30 s.
        for value in ["+30", "30.0", "Sun, 29 Nov 2026 12:01:00 UTC"] {
            let sink = try SinkProcess(options: ["--fail-first", "1", "--fail-status", "503", "--retry-after", value])
            let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
            let gap = try retryGap(sink, refex: refex, status: 503)
            XCTAssertLessThan(gap, 10_000, "Retry-After: \(value) must be ignored")
            refex.stop()
            sink.stop()
        }
    }

    func testRetryAfterPastTheMaximumAgeFailsTheItemNamingRetryAfter() throws {
        for (value, options) in [("99999999999999999999", [String]()), ("120", []), ("120", ["--retry-after-date", "rfc850"])] {
            let sink = try SinkProcess(options: ["--fail-first", "1", "--fail-status", "429", "--retry-after", value] + options)
            let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint, maxAgeSeconds: 60))
            let receipt = try submit(refex, try referral())
            let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
            let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
            XCTAssertTrue(sink.wait { (try? self.state(refex, referral: referralID, recipient: "dv-support")) == "failed" }, refex.logText)
            XCTAssertEqual(sink.requests.filter { $0.key == id }.count, 1, "not retried early: \(value)")
            let list = try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "list", "--state", "failed", "--json", "--config", refex.configPath])
            let line = list.output.split(separator: "\n").first { $0.contains(id) } ?? ""
            XCTAssertTrue(line.contains("Retry-After asked for a wait of") && line.contains("maxAgeSeconds 60"), "\(value): \(list.output)")
            refex.stop()
            sink.stop()
        }
    }

    func testRecipientWhoseFieldsSelectNothingIsWithheldNotSentAnEmptyObject() throws {
        let sink = try SinkProcess()
        let ca = try TestPKI.certificate("ca")
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint) { config in
            var recipients = config["recipients"]?.arrayValue ?? []
            // Fields the referral does not have, and a special category it may not receive: nothing selected.
            recipients.append([
                "id": "empty-support", "name": "Selects nothing", "services": ["domestic-abuse"],
                "delivery": ["mode": "push", "endpoint": .string(sink.endpoint), "ca": .string(ca)],
                "fields": ["/nonexistent", "/subject/health"], "categories": [],
            ])
            config["recipients"] = .array(recipients)
        })
        let receipt = try submit(refex, try referral())
        let entry = try XCTUnwrap(receipt["disclosures"]?.arrayValue?.first { $0["recipient"]?.stringValue == "empty-support" })
        XCTAssertEqual(entry["state"], "refused")
        XCTAssertEqual(entry["reason"], "nothing-to-disclose")
        let id = try XCTUnwrap(entry["id"]?.stringValue)
        // The recipient that does select fields is served; the empty one never hears of it.
        let dv = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(sink.wait { sink.files.contains("\(dv).json") }, refex.logText)
        XCTAssertFalse(sink.requests.contains { $0.key == id })
        XCTAssertEqual(try refex.outboxItems().filter { $0["disclosureId"]?.stringValue == id }.count, 0)
        let logged = try refex.logEntries(disclosure: id)
        XCTAssertEqual(logged.map { $0["event"] }, ["disclosure.withheld"])
        XCTAssertEqual(logged.first?["reason"], "nothing-to-disclose")
        // An override cannot send it either.
        let override: JSONValue = ["recipient": "empty-support", "lawfulBasis": "vital-interests",
                                   "justification": "Immediate risk to life reported by the attending officer tonight"]
        let file = ProjectPaths.temporaryDirectory() + "/o.json"
        try Data(override.serialized()).write(to: URL(fileURLWithPath: file))
        let (_, answer) = try Curl.request(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)",
                                            "\(refex.baseURL)/v1/referrals/\(receipt["id"]?.stringValue ?? "")/overrides"], as: "hub-admin")
        XCTAssertEqual(answer?.status, 409)
        XCTAssertTrue(answer?.json?["detail"]?.stringValue?.contains("nothing to disclose") ?? false, answer?.body ?? "")

        // The withholding is accounted for: the log verifies against the store, and without its
        // entry (cut from a copy of the SQLite files and the rest re-chained) it does not.
        XCTAssertEqual(try refex.host(["log", "verify", "--no-signatures"]).status, 0)
        guard SQLiteFiles.isStoreUnderTest else { return }
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
        let folder = ProjectPaths.temporaryDirectory("refex-cut")
        try FileManager.default.copyItem(atPath: refex.storePath, toPath: "\(folder)/copy.db")
        try FileManager.default.copyItem(atPath: refex.storePath.replacingOccurrences(of: ".db", with: "-keys.db"), toPath: "\(folder)/copy-keys.db")
        let verify = ["log", "verify", "--store", "\(folder)/copy.db", "--no-signatures"]
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, verify).status, 0)
        let rechained = try Subprocess.run("python3", ["\(ProjectPaths.root)/Tests/scripts/rechain_log.py", "\(folder)/copy.db", "--delete", "disclosure_id = '\(id)'"])
        XCTAssertEqual(rechained.status, 0, rechained.errorOutput)
        let cut = try Subprocess.run(ProjectPaths.refexBinary, verify)
        XCTAssertEqual(cut.status, 1, cut.output)
        XCTAssertTrue(cut.errorOutput.contains("disclosure \(id) has no decision (disclosure.authorised or disclosure.withheld) entry"), cut.errorOutput)
    }

    func testARectificationThatLeavesARecipientNothingIsWithheldWhenItWouldBeSent() throws {
        let sink = try SinkProcess()
        let ca = try TestPKI.certificate("ca")
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint) { config in
            var recipients = config["recipients"]?.arrayValue ?? []
            recipients.append([
                "id": "description-only", "name": "Reads the description", "services": ["domestic-abuse"],
                "delivery": ["mode": "push", "endpoint": .string(sink.endpoint), "ca": .string(ca)],
                "fields": ["/offence/description"], "categories": [],
            ])
            config["recipients"] = .array(recipients)
        })
        // Consent for another service: the disclosure waits.
        let receipt = try submit(refex, try referral(purposes: ["translation"]))
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let subjectID = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let id = try XCTUnwrap(disclosureID(receipt, "description-only"))
        XCTAssertEqual(try state(refex, referral: referralID, recipient: "description-only"), "awaiting-consent")
        // The description is removed: the recipient's one field is gone.
        let patch = ProjectPaths.temporaryDirectory() + "/patch.json"
        try Data(#"{"offence": {"description": null}}"#.utf8).write(to: URL(fileURLWithPath: patch))
        let (_, rectified) = try Curl.request(
            ["-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "--data-binary", "@\(patch)", "\(refex.baseURL)/v1/subjects/\(subjectID)"],
            as: "hub-admin"
        )
        XCTAssertEqual(rectified?.status, 200, rectified?.body ?? "")
        // Consent now covers it: released, then stopped before it leaves.
        let consent: JSONValue = ["schema": "urn:refex:schema:consent:1", "referralId": .string(referralID), "purposes": ["domestic-abuse"],
                                  "obtainedBy": "PC Sam Sample", "obtainedAt": "2026-11-21T09:00:00Z", "method": "verbal"]
        let file = ProjectPaths.temporaryDirectory() + "/c.json"
        try Data(consent.serialized()).write(to: URL(fileURLWithPath: file))
        let (_, recorded) = try Curl.request(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/consents"], as: "police")
        XCTAssertEqual(recorded?.status, 201, recorded?.body ?? "")
        XCTAssertTrue(sink.wait { (try? self.state(refex, referral: referralID, recipient: "description-only")) == "refused" }, refex.logText)
        let dv = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(sink.wait { sink.files.contains("\(dv).json") }, "the other recipient is still served")
        XCTAssertFalse(sink.requests.contains { $0.key == id }, "nothing was sent to the recipient left with nothing")
        let withheld = try XCTUnwrap(try refex.logEntries(event: "disclosure.withheld", disclosure: id).last)
        XCTAssertEqual(withheld["reason"], "nothing-to-disclose", withheld.serializedString())
    }

    func testPermanentRefusalFailsVisiblyAndRetryByCommandWorks() throws {
        let refusing = try SinkProcess(options: ["--status", "400"])
        let refex = try RefexProcess(config: try config(dv: refusing.endpoint, support: refusing.endpoint))
        let receipt = try submit(refex, try referral())
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(refusing.wait { (try? self.state(refex, referral: referralID, recipient: "dv-support")) == "failed" })
        XCTAssertEqual(refusing.requests.count, 1, "a 400 is not retried")
        XCTAssertEqual(try refex.logCount(event: "disclosure.failed"), 1)
        let list = try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "list", "--state", "failed", "--config", refex.configPath])
        XCTAssertEqual(list.status, 0, list.errorOutput)
        XCTAssertTrue(list.output.contains(id) && list.output.contains("HTTP 400"), list.output)

        // The recipient is fixed; an operator retries.
        let port = refusing.port
        refusing.stop()
        let fixed = try SinkProcess(port: port)
        let retry = try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "retry", id, "--config", refex.configPath])
        XCTAssertEqual(retry.status, 0, retry.errorOutput)
        XCTAssertTrue(fixed.wait { fixed.files.contains("\(id).json") }, refex.logText)
        XCTAssertTrue(fixed.wait { (try? self.state(refex, referral: referralID, recipient: "dv-support")) == "delivered" })
        XCTAssertEqual(try refex.logCount(event: "disclosure.retried"), 1)
        XCTAssertEqual(try refex.recomputedLogChain()["problems"], [], "the host command's entry must join the chain")
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "retry", id, "--config", refex.configPath]).status, 1)
    }

    func testRecipientWithTheWrongCAOrHostNameNeverReceivesData() throws {
        // Wrong CA: the sink's certificate does not chain to the CA configured for the recipient.
        let sink = try SinkProcess()
        let wrongCA = try RefexProcess(config: try config(
            dv: sink.endpoint, support: sink.endpoint, dvCA: try TestPKI.certificate("other-ca"), maxAgeSeconds: 2
        ))
        let receipt = try submit(wrongCA, try referral())
        XCTAssertTrue(sink.wait { (try? self.state(wrongCA, referral: receipt["id"]?.stringValue ?? "", recipient: "dv-support")) == "failed" })
        XCTAssertEqual(sink.requests.count, 0, "no request may reach a server that failed verification")
        XCTAssertTrue(try wrongCA.logEntries(event: "disclosure.failed").map { $0.serializedString() }.joined().contains("tls"))

        // Wrong host name: the certificate names localhost and 127.0.0.1, not 127.0.0.2.
        let elsewhere = try SinkProcess(host: "127.0.0.2")
        let wrongHost = try RefexProcess(config: try config(dv: "https://127.0.0.2:\(elsewhere.port)/deliveries", support: sink.endpoint, maxAgeSeconds: 2))
        let second = try submit(wrongHost, try referral())
        XCTAssertTrue(elsewhere.wait { (try? self.state(wrongHost, referral: second["id"]?.stringValue ?? "", recipient: "dv-support")) == "failed" })
        XCTAssertEqual(elsewhere.requests.count, 0)
    }

    func testKillDuringADeliveryBurstDeliversEverythingAndNothingTwice() throws {
        let sink = try SinkProcess(options: ["--delay-ms", "20"])
        let configuration = try config(dv: sink.endpoint, support: sink.endpoint)
        let refex = try RefexProcess(config: configuration)
        var expected: Set<String> = []
        for index in 0..<30 {
            if let id = disclosureID(try submit(refex, try referral("KILL-\(index)")), "dv-support") { expected.insert(id) }
        }
        XCTAssertTrue(sink.wait { sink.files.count >= 3 })
        refex.signal(SIGKILL)
        XCTAssertNotNil(refex.waitForExit())
        let restarted = try RefexProcess(config: try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath)))).objectValue))
        defer { restarted.stop() }
        XCTAssertTrue(sink.wait(timeout: 60) { Set(sink.requests.filter { $0.status == 201 }.map(\.key)).isSuperset(of: expected) }, "\(sink.files.count) of 30")
        let writes = sink.requests.filter { $0.status == 201 }
        XCTAssertEqual(writes.count, Set(writes.map(\.key)).count, "a disclosure was written twice")
        XCTAssertEqual(Set(writes.map(\.key)), expected)
    }

    func testWithdrawalAfterDeliverySendsAnErasureNotice() throws {
        let sink = try SinkProcess()
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
        let receipt = try submit(refex, try referral())
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(sink.wait { sink.files.contains("\(id).json") })
        XCTAssertTrue(sink.wait { (try? self.state(refex, referral: receipt["id"]?.stringValue ?? "", recipient: "dv-support")) == "delivered" })
        let consentID = try refex.consentID(referral: try XCTUnwrap(receipt["id"]?.stringValue))
        let (_, withdrawn) = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/consents/\(consentID)/withdraw"], as: "police")
        XCTAssertEqual(withdrawn?.status, 200)
        XCTAssertEqual(withdrawn?.json?["erasureNotices"], ["dv-support"])
        XCTAssertTrue(sink.wait { sink.files.contains { $0.hasPrefix("\(id).erasure-notice.") } }, refex.logText)
        let notice = try sink.document(try XCTUnwrap(sink.files.first { $0.hasPrefix("\(id).erasure-notice.") }))
        XCTAssertEqual(notice["type"], "erasure-notice")
        XCTAssertEqual(notice["disclosureId"]?.stringValue, id)
        XCTAssertEqual(notice["reason"], "consent-withdrawn")
        XCTAssertTrue(sink.wait { (try? refex.logCount(event: "notice.delivered")) == 1 })
    }

    func testWithdrawalDuringAnAttemptIsLoggedAsDeliveredAndFollowedByAnErasureNotice() throws {
        // The sink holds each request 3 s before storing and answering it: consent is withdrawn meanwhile.
        let sink = try SinkProcess(options: ["--delay-ms", "3000"])
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
        let receipt = try submit(refex, try referral())
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(sink.wait { self.attempts(refex, "dv-support") >= 1 }, refex.logText)
        let consentID = try refex.consentID(referral: try XCTUnwrap(receipt["id"]?.stringValue))
        let (_, withdrawn) = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/consents/\(consentID)/withdraw"], as: "police")
        XCTAssertEqual(withdrawn?.status, 200)
        XCTAssertTrue(sink.wait { sink.files.contains("\(id).json") }, "the attempt under way arrives")
        // What arrived is logged as arrived, and the recipient is told to erase it.
        XCTAssertTrue(sink.wait {
            (try? refex.logCount(event: "disclosure.delivered", disclosure: id)) == 1
        }, refex.logText)
        let delivered = try XCTUnwrap(try refex.logEntries(event: "disclosure.delivered", disclosure: id).first).serializedString()
        XCTAssertTrue(delivered.contains("arrivedAfterCancellation"), delivered)
        XCTAssertTrue(sink.wait(timeout: 30) { sink.files.contains { $0.hasPrefix("\(id).erasure-notice.") } }, refex.logText)
        XCTAssertEqual(try state(refex, referral: receipt["id"]?.stringValue ?? "", recipient: "dv-support"), "delivered")
    }

    func testStoppingWaitsForAnAttemptUnderWayAndRecordsItsOutcome() throws {
        // The sink holds each request 1 s: SIGTERM arrives while the attempt is under way. refex
        // must not exit under a worker still inside libcurl and OpenSSL, nor before the outcome is recorded.
        let sink = try SinkProcess(options: ["--delay-ms", "1000"])
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint))
        let receipt = try submit(refex, try referral())
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(sink.wait { self.attempts(refex, "dv-support") >= 1 }, refex.logText)
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0, refex.logText)
        // Read with refex stopped: through the host commands.
        let subjectID = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let held = try JSONValue.parse(Array(try refex.host(["subject", "export", subjectID]).stdout))
        XCTAssertEqual(held["disclosures"]?.arrayValue?.first { $0["id"]?.stringValue == id }?["state"], "delivered", refex.logText)
        XCTAssertEqual(try refex.logCount(event: "disclosure.delivered", disclosure: id), 1)
    }

    func testSIGTERMDrainsInOrderRecordingTheAttemptUnderWayAndGivingBackClaimsNotStarted() throws {
        // One attempt at a time, each held 1.5 s by the sink: SIGTERM arrives with one under way and
        // two due behind it. The one under way is recorded before the store closes; the two are left
        // unclaimed, so that the next refex (or another node) sends them at once, not when a lease ends.
        let sink = try SinkProcess(options: ["--delay-ms", "1500"])
        let refex = try RefexProcess(config: try config(dv: sink.endpoint, support: sink.endpoint) { config in
            if case .object(var delivery)? = config["delivery"] {
                delivery["concurrency"] = 1
                config["delivery"] = .object(delivery)
            }
        })
        let ids = try (0..<3).compactMap { disclosureID(try submit(refex, try referral("DRAIN-\($0)")), "dv-support") }
        XCTAssertEqual(ids.count, 3)
        XCTAssertTrue(sink.wait { self.attempts(refex, "dv-support") >= 1 }, refex.logText)
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0, refex.logText)
        // Read with refex stopped: through the host commands.
        let delivered = try refex.logEntries(event: "disclosure.delivered").compactMap { $0["disclosureId"]?.stringValue }
        XCTAssertEqual(delivered.count, 1, "the attempt under way is recorded: \(refex.logText)")
        XCTAssertTrue(ids.contains(delivered.first ?? ""), "\(delivered)")
        let pending = try refex.outboxItems().filter { $0["state"]?.stringValue == "pending" }.compactMap { $0["disclosureId"]?.stringValue }
        XCTAssertEqual(Set(pending), Set(ids).subtracting(delivered), "the two not started wait in the outbox")
        if SQLiteFiles.isStoreUnderTest {
            XCTAssertEqual(try refex.sqliteFile("SELECT count(*) FROM outbox WHERE lease_holder IS NOT NULL OR lease_until IS NOT NULL"), "0",
                           "no claim outlives the stop: recorded, or given back")
        }
        // Stopped in order: the server first, delivery (its attempt recorded) next, the store last.
        let stopping = refex.logText.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("stopping"), let range = line.range(of: "service=") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != " " && $0 != "\"" })
        }
        let order = ["server", "delivery", "store"].map { stopping.firstIndex(of: $0) }
        XCTAssertEqual(order.compactMap { $0 }.count, 3, "\(stopping)")
        XCTAssertEqual(order.compactMap { $0 }, order.compactMap { $0 }.sorted(), "\(stopping)")
        XCTAssertFalse(refex.logText.contains("did not stop in time"), refex.logText)
        XCTAssertFalse(refex.logText.contains("store is closed"), refex.logText)

        let restarted = try RefexProcess(config: try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath)))).objectValue))
        defer { restarted.stop() }
        XCTAssertTrue(sink.wait(timeout: 12) { Set(sink.requests.filter { $0.status == 201 }.map(\.key)).isSuperset(of: ids) }, restarted.logText)
        XCTAssertEqual(sink.requests.filter { $0.key == delivered.first }.count, 1, "what was recorded delivered is not sent again")
    }

    func testSIGTERMWaitsForAnAttemptOfALaneAReloadReplaced() throws {
        // An attempt is under way at the slow endpoint when a reload points the recipient at
        // another: its lane is replaced, and a new lane sends the next item to the new endpoint at
        // once. SIGTERM then must still wait for the old lane's attempt and record it, not close
        // the store under it.
        let slow = try SinkProcess(options: ["--delay-ms", "8000"])
        let fast = try SinkProcess()
        let refex = try RefexProcess(config: try config(dv: slow.endpoint, support: fast.endpoint) { config in
            if case .object(var delivery)? = config["delivery"] {
                delivery["concurrency"] = 1
                delivery["timeoutSeconds"] = 9
                config["delivery"] = .object(delivery)
            }
        })
        let first = try XCTUnwrap(disclosureID(try submit(refex, try referral("LANE-1")), "dv-support"))
        XCTAssertTrue(slow.wait { self.attempts(refex, "dv-support") >= 1 }, refex.logText)
        let second = try XCTUnwrap(disclosureID(try submit(refex, try referral("LANE-2")), "dv-support"))

        var config = try XCTUnwrap(try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: refex.configPath)))).objectValue)
        var recipients = config["recipients"]?.arrayValue ?? []
        for index in recipients.indices {
            guard case .object(var recipient) = recipients[index], recipient["id"] == "dv-support",
                  case .object(var delivery)? = recipient["delivery"] else { continue }
            delivery["endpoint"] = .string(fast.endpoint)
            recipient["delivery"] = .object(delivery)
            recipients[index] = .object(recipient)
        }
        config["recipients"] = .array(recipients)
        try refex.rewriteConfig(config)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded"), refex.logText)
        XCTAssertTrue(fast.wait { fast.files.contains("\(second).json") }, "the new lane sends the next item: \(refex.logText)")
        XCTAssertFalse(slow.files.contains("\(first).json"), "the first attempt is still under way when SIGTERM arrives")

        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0, refex.logText)
        XCTAssertTrue(slow.files.contains("\(first).json"), "the attempt under way reached the recipient")
        XCTAssertEqual(try refex.logCount(event: "disclosure.delivered", disclosure: first), 1, "and was recorded: \(refex.logText)")
        XCTAssertFalse(refex.logText.contains("store is closed"), refex.logText)
        XCTAssertFalse(refex.logText.contains("before stopping"), refex.logText)
    }

    func testConsentThatLapsesBeforeSendingWithholdsTheDisclosure() throws {
        let endpoint = "https://localhost:\(try freePort())/deliveries"
        let refex = try RefexProcess(config: try config(dv: endpoint, support: endpoint))
        var body = try referral()
        if case .object(var object) = body, case .object(var consent)? = object["consent"] {
            consent["expiresAt"] = .string(ISO8601DateFormatter().string(from: Date().addingTimeInterval(2)))
            object["consent"] = .object(consent)
            body = .object(object)
        }
        let receipt = try submit(refex, body)
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertEqual(try state(refex, referral: referralID, recipient: "dv-support"), "queued")
        // The recipient is down; once the consent lapses, the next attempt must not send it.
        XCTAssertTrue(refex.waitForLog("delivery will be retried", timeout: 10), refex.logText)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? self.state(refex, referral: referralID, recipient: "dv-support")) == "awaiting-consent" },
                      refex.logText)
        let withheld = try refex.logEntries(event: "disclosure.withheld", disclosure: id).map { $0.serializedString() }.joined(separator: "\n")
        XCTAssertTrue(withheld.contains("consent-expired"), withheld)
        XCTAssertEqual(try refex.outboxItems().filter { $0["id"]?.stringValue == id }.count, 0)
    }

    func testARestrictedSubjectsFailedDisclosureCannotBeRetried() throws {
        let refusing = try SinkProcess(options: ["--status", "400"])
        let refex = try RefexProcess(config: try config(dv: refusing.endpoint, support: refusing.endpoint))
        let receipt = try submit(refex, try referral())
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(refusing.wait { (try? self.state(refex, referral: referralID, recipient: "dv-support")) == "failed" })
        let subject = try XCTUnwrap(try refex.referralStatus(referralID)["subjectId"]?.stringValue)
        let restricted = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/subjects/\(subject)/restrict"], as: "hub-admin").response
        XCTAssertEqual(restricted?.status, 200)
        let retry = try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "retry", id, "--config", refex.configPath])
        XCTAssertEqual(retry.status, 1, retry.output)
        XCTAssertTrue(retry.errorOutput.contains("restricted"), retry.errorOutput)
        XCTAssertEqual(try state(refex, referral: referralID, recipient: "dv-support"), "failed")
        XCTAssertEqual(refusing.requests.count, 1)
    }

    func testErasureAfterAFailedAttemptTellsTheRecipientToo() throws {
        let refusing = try SinkProcess(options: ["--status", "400"])
        let refex = try RefexProcess(config: try config(dv: refusing.endpoint, support: refusing.endpoint))
        let receipt = try submit(refex, try referral())
        let referralID = try XCTUnwrap(receipt["id"]?.stringValue)
        let id = try XCTUnwrap(disclosureID(receipt, "dv-support"))
        XCTAssertTrue(refusing.wait { (try? self.state(refex, referral: referralID, recipient: "dv-support")) == "failed" })
        let consentID = try refex.consentID(referral: try XCTUnwrap(receipt["id"]?.stringValue))
        let (_, withdrawn) = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/consents/\(consentID)/withdraw"], as: "police")
        XCTAssertEqual(withdrawn?.status, 200)
        XCTAssertEqual(withdrawn?.json?["erasureNotices"], ["dv-support"], "a failed attempt may still have arrived")
        XCTAssertEqual(try state(refex, referral: referralID, recipient: "dv-support"), "cancelled")
        let notice = try refex.logEntries(event: "notice.queued", disclosure: id).map { $0.serializedString() }.joined(separator: "\n")
        XCTAssertTrue(notice.contains("possiblyReceived"), notice)
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["outbox", "retry", id, "--config", refex.configPath]).status, 1)
    }

    func testADeadRecipientDoesNotHoldUpALiveOne() throws {
        let live = try SinkProcess()
        let dead = "https://localhost:\(try freePort())/deliveries"
        let refex = try RefexProcess(config: try config(dv: dead, support: live.endpoint))
        // Keep dv-support busy failing first.
        for index in 0..<10 { _ = try submit(refex, try referral("DEAD-\(index)")) }
        let started = Date()
        let receipt = try submit(refex, try referral("LIVE-1", purposes: ["domestic-abuse", "general-victim-support"]))
        let id = try XCTUnwrap(disclosureID(receipt, "victim-support"))
        XCTAssertTrue(live.wait(timeout: 5) { live.files.contains("\(id).json") })
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "the live recipient waited behind the dead one")
    }

    // MARK: Pull

    func testMailboxListFetchAckAndIsolation() throws {
        let configuration = try config(dv: "https://localhost:1/x", support: "https://localhost:1/x") { config in
            var partners = config["partners"]?.arrayValue ?? []
            partners[1] = ["id": "partner-b", "name": "B", "roles": ["refer", "receive"],
                           "certificates": [["sha256": .string((try? TestPKI.fingerprint("partner-b")) ?? "")]]]
            config["partners"] = .array(partners)
            var recipients = config["recipients"]?.arrayValue ?? []
            recipients.append(["id": "translation-b", "name": "Other translation", "services": ["translation"],
                               "delivery": ["mode": "pull", "partner": "partner-b"], "fields": ["/subject/language"]])
            config["recipients"] = .array(recipients)
        }
        let refex = try RefexProcess(config: configuration)
        let receipt = try submit(refex, try referral(purposes: ["translation"]).withTranslationNeed())
        let mine = try XCTUnwrap(disclosureID(receipt, "translation"))
        let theirs = try XCTUnwrap(disclosureID(receipt, "translation-b"))

        let list = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/mailbox"], as: "sink").response?.json)
        XCTAssertEqual(list["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue }, [mine])
        // Acknowledged before it was fetched: nothing left, so nothing is logged as delivered.
        let early = try XCTUnwrap(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/mailbox/\(mine)/ack"], as: "sink").response)
        XCTAssertEqual(early.status, 409, early.body)
        XCTAssertEqual(try refex.logCount(event: "disclosure.delivered"), 0)
        XCTAssertEqual(try state(refex, referral: receipt["id"]?.stringValue ?? "", recipient: "translation"), "queued")
        let fetched = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/mailbox/\(mine)"], as: "sink").response)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.json?["disclosureId"]?.stringValue, mine)
        XCTAssertEqual(fetched.json?["data"]?["subject"]?["language"]?["preferred"], "en")
        XCTAssertNil(fetched.json?["data"]?["offence"])

        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox/\(theirs)"], as: "sink").response?.status, 404)
        XCTAssertEqual(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/mailbox/\(theirs)/ack"], as: "sink").response?.status, 404)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox"], as: "police").response?.status, 403)

        // Fetching is disclosing: logged before the body left, once however often it is fetched.
        XCTAssertEqual(try state(refex, referral: receipt["id"]?.stringValue ?? "", recipient: "translation"), "delivered")
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox/\(mine)"], as: "sink").response?.status, 200)
        XCTAssertEqual(try refex.logEntries(event: "disclosure.delivered").map { $0["actor"] }, ["sink"])

        let ack = try XCTUnwrap(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/mailbox/\(mine)/ack"], as: "sink").response)
        XCTAssertEqual(ack.status, 200)
        XCTAssertEqual(try state(refex, referral: receipt["id"]?.stringValue ?? "", recipient: "translation"), "delivered")
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox"], as: "sink").response?.json?["items"], [])
        XCTAssertEqual(try refex.logEntries(event: "disclosure.delivered").map { $0["actor"] }, ["sink"])
        let again = try XCTUnwrap(try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/mailbox/\(mine)/ack"], as: "sink").response)
        XCTAssertEqual(again.status, 200, "acknowledging twice is harmless")
        XCTAssertEqual(try refex.logCount(event: "disclosure.delivered"), 1)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox"], as: "partner-b").response?.json?["items"]?[0]?["id"]?.stringValue, theirs)
    }

    func testWithdrawalAfterAMailboxFetchLeavesAnErasureNoticeInTheMailbox() throws {
        let configuration = try config(dv: "https://localhost:1/x", support: "https://localhost:1/x")
        let refex = try RefexProcess(config: configuration)
        let receipt = try submit(refex, try referral(purposes: ["translation"]).withTranslationNeed())
        let mine = try XCTUnwrap(disclosureID(receipt, "translation"))
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox/\(mine)"], as: "sink").response?.status, 200)
        // Fetched, not yet acknowledged: the recipient holds the data all the same.
        let consentID = try refex.consentID(referral: try XCTUnwrap(receipt["id"]?.stringValue))
        let (_, withdrawn) = try Curl.request(["-X", "POST", "-d", "", "\(refex.baseURL)/v1/consents/\(consentID)/withdraw"], as: "police")
        XCTAssertEqual(withdrawn?.status, 200)
        XCTAssertTrue(withdrawn?.json?["erasureNotices"]?.arrayValue?.contains("translation") ?? false, "\(String(describing: withdrawn?.json))")
        let items = try XCTUnwrap(try Curl.request(["\(refex.baseURL)/v1/mailbox"], as: "sink").response?.json?["items"]?.arrayValue)
        XCTAssertEqual(items.map { $0["type"] }, ["erasure-notice"])
        XCTAssertEqual(items.first?["disclosureId"]?.stringValue, mine)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/mailbox/\(mine)"], as: "sink").response?.status, 404)
    }

    /// Delivery attempts refex has started for a recipient, from its metrics.
    private func attempts(_ refex: RefexProcess, _ recipient: String) -> Int {
        guard let (_, metrics) = try? Curl.request(["\(refex.opsURL)/metrics"], as: nil) else { return 0 }
        let line = metrics?.body.split(separator: "\n").first { $0.hasPrefix("refex_delivery_attempts_total{recipient=\"\(recipient)\"}") }
        return Int(line?.split(separator: " ").last ?? "") ?? 0
    }
}

private extension JSONValue {
    /// The referral with a translation support need added.
    func withTranslationNeed() -> JSONValue {
        guard case .object(var object) = self else { return self }
        var needs = object["supportNeeds"]?.arrayValue ?? []
        needs.append(["service": "translation"])
        object["supportNeeds"] = .array(needs)
        return .object(object)
    }
}
