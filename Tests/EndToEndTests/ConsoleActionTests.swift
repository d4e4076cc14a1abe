import Foundation
import JSON
import TestSupport
import XCTest

/// The console's forms and reads through the built binary and curl (issue 16): a form is taken
/// only with its token, for its certificate, from the console itself; erasing through it erases
/// and tells the recipients; every reading is logged as the API logs it; hostile referral values
/// render inert.
final class ConsoleActionTests: XCTestCase {
    /// The default config, partner-b an admin too (a second admin certificate), deliveries to `sink`.
    private func config(sink: SinkProcess? = nil) throws -> JSONObject {
        var config = try RefexProcess.config()
        if case .array(var partners)? = config["partners"] {
            for index in partners.indices where partners[index]["id"] == "partner-b" {
                if case .object(var partner) = partners[index] {
                    partner["roles"] = ["refer", "admin"]
                    partners[index] = .object(partner)
                }
            }
            config["partners"] = .array(partners)
        }
        if let sink { config["recipients"] = .array(try RefexProcess.recipients(endpoint: sink.endpoint)) }
        return config
    }

    func testAFormWithoutItsTokenOrFromAnotherSiteIsRefusedAndChangesNothing() throws {
        let refex = try RefexProcess(config: try config())
        let subject = try XCTUnwrap(try ConsoleClient.submit(refex, reference: "CONSOLE-CSRF")["subjectId"]?.stringValue)
        let erase = "/console/subjects/\(subject)/erase"
        let token = try ConsoleClient.token(in: try ConsoleClient.get(refex, erase).body, action: erase)
        let restrictToken = try ConsoleClient.token(in: try ConsoleClient.get(refex, "/console/subjects/\(subject)/restrict").body, action: "/console/subjects/\(subject)/restrict")
        let otherAdminsToken = try ConsoleClient.token(in: try ConsoleClient.get(refex, erase, as: "partner-b").body, action: erase)
        XCTAssertNotEqual(token, otherAdminsToken)
        func notByHost() throws -> Int { try refex.logEntries().filter { $0["actor"]?.stringValue?.hasPrefix("host:") != true }.count }
        let before = try notByHost()

        let refusals: [(String, String, [String], Int)] = [
            ("no token", ConsoleClient.form([("reason", "Requested by the subject in writing.")]), [], 403),
            ("an empty token", ConsoleClient.form([("csrf", "")]), [], 403),
            ("a made-up token", ConsoleClient.form([("csrf", String(repeating: "A", count: 54))]), [], 403),
            ("a token altered", ConsoleClient.form([("csrf", String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A"))]), [], 403),
            ("another form's token", ConsoleClient.form([("csrf", restrictToken)]), [], 403),
            ("another admin certificate's token", ConsoleClient.form([("csrf", otherAdminsToken)]), [], 403),
            ("the token twice", ConsoleClient.form([("csrf", token), ("csrf", token)]), [], 403),
            ("a cross-site post", ConsoleClient.form([("csrf", token)]), ["Sec-Fetch-Site: cross-site"], 403),
            ("a same-site post", ConsoleClient.form([("csrf", token)]), ["Sec-Fetch-Site: same-site"], 403),
            ("a post from a user's own navigation", ConsoleClient.form([("csrf", token)]), ["Sec-Fetch-Site: none"], 403),
            ("another origin", ConsoleClient.form([("csrf", token)]), ["Origin: https://evil.example"], 403),
            ("an origin over http", ConsoleClient.form([("csrf", token)]), ["Origin: http://localhost:\(refex.apiPort)"], 403),
            ("the null origin", ConsoleClient.form([("csrf", token)]), ["Origin: null"], 403),
        ]
        for (what, body, headers, status) in refusals {
            let response = try ConsoleClient.request(refex, "POST", erase, form: body, headers: headers)
            XCTAssertEqual(response.status, status, what)
            ConsoleClient.assertConsoleHeaders(response, what)
            XCTAssertTrue(response.body.contains("nothing was changed"), what)
        }
        // A text/plain post (what a cross-site form can send without a preflight) is not a console form.
        let plain = try ConsoleClient.request(refex, "POST", erase, headers: ["Content-Type: text/plain"])
        XCTAssertEqual(plain.status, 415, "not a form")
        // The token from partner-b's page is good for partner-b: the refusal above was the certificate.
        // Nothing happened: no entry, the subject not erased.
        XCTAssertEqual(try notByHost() - before, 0, "a refused form neither changes nor reads anything")
        XCTAssertEqual(try refex.logCount(event: "subject.erased"), 0)
        XCTAssertFalse(try ConsoleClient.get(refex, "/console/subjects/\(subject)").body.contains("only the pseudonymous log remains"))

        // The same form from the console page itself goes through.
        let done = try ConsoleClient.request(
            refex, "POST", erase, form: ConsoleClient.form([("csrf", token), ("reason", "")]),
            headers: ["Sec-Fetch-Site: same-origin", "Origin: https://localhost:\(refex.apiPort)"]
        )
        XCTAssertEqual(done.status, 200, done.body)
        XCTAssertEqual(try refex.logCount(event: "subject.erased"), 1)
        let erased = try refex.logEntries(event: "subject.erased")
        XCTAssertEqual(erased.first?["actor"], "hub-admin")
    }

    func testEraseThroughTheConsoleErasesAndQueuesErasureNotices() throws {
        let sink = try SinkProcess()
        let refex = try RefexProcess(config: try config(sink: sink))
        let receipt = try ConsoleClient.submit(refex, reference: "CONSOLE-ERASE")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let referral = try XCTUnwrap(receipt["id"]?.stringValue)
        let delivered = try XCTUnwrap(receipt["disclosures"]?.arrayValue?.first { $0["state"] == "queued" }?["id"]?.stringValue)
        XCTAssertTrue(sink.wait { (try? refex.logCount(event: "disclosure.delivered", disclosure: delivered)) == 1 })

        let erase = "/console/subjects/\(subject)/erase"
        let confirmation = try ConsoleClient.get(refex, erase)
        XCTAssertTrue(confirmation.body.contains("will be sent an erasure notice"), "the confirmation says who will be told")
        XCTAssertTrue(confirmation.body.contains("This cannot be undone"))
        XCTAssertEqual(try refex.logCount(event: "subject.erased"), 0, "a confirmation page changes nothing")
        let token = try ConsoleClient.token(in: confirmation.body, action: erase)
        let done = try ConsoleClient.request(
            refex, "POST", erase, form: ConsoleClient.form([("csrf", token), ("reason", "The subject asked for erasure in writing.")]),
            headers: ["Sec-Fetch-Site: same-origin"]
        )
        XCTAssertEqual(done.status, 200, done.body)
        XCTAssertTrue(done.body.contains("Erasure notice queued for"), done.body)

        XCTAssertEqual(try refex.logEntries(event: "subject.erased").first?["actor"], "hub-admin")
        let notices = try refex.logEntries(event: "notice.queued", subject: subject)
        XCTAssertEqual(notices.count, 1)
        XCTAssertEqual(notices.first?["disclosureId"]?.stringValue, delivered)
        XCTAssertTrue(sink.wait { sink.files.contains { $0.contains("erasure") || $0.hasPrefix("notice") } || (try? refex.logCount(event: "notice.delivered")) == 1 })
        // The subject page now shows only the pseudonymous log: nothing left to reveal.
        let page = try ConsoleClient.get(refex, "/console/subjects/\(subject)").body
        XCTAssertTrue(page.contains("only the pseudonymous log remains"))
        XCTAssertFalse(page.contains("/referrals/\(referral)/reveal"))
        // Erasing again says so and sends nothing more.
        let again = try ConsoleClient.get(refex, erase)
        XCTAssertTrue(again.body.contains("There is nothing more to erase"))
    }

    func testEveryConsoleReadIsLoggedAsTheAPILogsIt() throws {
        let refex = try RefexProcess(config: try config())
        let receipt = try ConsoleClient.submit(refex, reference: "CONSOLE-READS")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let referral = try XCTUnwrap(receipt["id"]?.stringValue)

        func newEntries(_ body: () throws -> Void) throws -> [JSONValue] {
            let before = try refex.logEntries().filter { $0["actor"]?.stringValue?.hasPrefix("host:") != true }.count
            try body()
            return Array(try refex.logEntries().filter { $0["actor"]?.stringValue?.hasPrefix("host:") != true }.dropFirst(before))
        }
        func shape(_ entry: JSONValue) -> [String: String] {
            var out: [String: String] = [:]
            for key in ["event", "actor", "subjectId", "referralId", "consentId"] { if let value = entry[key]?.stringValue { out[key] = value } }
            if let details = entry["details"] { out["details"] = details.serializedString() }
            return out
        }

        // The log page, as GET /v1/disclosures with the same filter.
        let consoleList = try newEntries { XCTAssertEqual(try ConsoleClient.get(refex, "/console/log?subject=\(subject)").status, 200) }
        let apiList = try newEntries { XCTAssertEqual(try refex.request("GET", "/v1/disclosures?subject=\(subject)&order=newest&limit=100", as: "hub-admin").status, 200) }
        XCTAssertEqual(consoleList.count, 1)
        XCTAssertEqual(consoleList.map(shape), apiList.map(shape), "the console's log read is recorded as the API's")
        XCTAssertEqual(consoleList.first?["event"], "log.viewed")
        XCTAssertEqual(consoleList.first?["actor"], "hub-admin")

        // The subject page: the log read, and each consent's details read as GET /v1/consents/{id}?details=true.
        let subjectPage = try newEntries { XCTAssertEqual(try ConsoleClient.get(refex, "/console/subjects/\(subject)").status, 200) }
        XCTAssertEqual(Set(subjectPage.compactMap { $0["event"]?.stringValue }), ["log.viewed", "consent.viewed"])
        let consent = try XCTUnwrap(subjectPage.first { $0["event"] == "consent.viewed" }?["consentId"]?.stringValue)
        let apiConsent = try newEntries { XCTAssertEqual(try refex.request("GET", "/v1/consents/\(consent)?details=true", as: "hub-admin").status, 200) }
        XCTAssertEqual(subjectPage.filter { $0["event"] == "consent.viewed" }.map(shape), apiConsent.map(shape))
        XCTAssertEqual(subjectPage.first { $0["event"] == "log.viewed" }?["subjectId"]?.stringValue, subject)

        // The export as GET /v1/subjects/{id}/export; the letter is an export too.
        let consoleExport = try newEntries { XCTAssertEqual(try ConsoleClient.get(refex, "/console/subjects/\(subject)/export.json").status, 200) }
        let apiExport = try newEntries { XCTAssertEqual(try refex.request("GET", "/v1/subjects/\(subject)/export", as: "hub-admin").status, 200) }
        XCTAssertEqual(consoleExport.map(shape), apiExport.map(shape))
        XCTAssertEqual(consoleExport.first?["event"], "subject.exported")
        let letter = try newEntries { XCTAssertEqual(try ConsoleClient.get(refex, "/console/subjects/\(subject)/letter").status, 200) }
        XCTAssertEqual(letter.map(shape), apiExport.map(shape))

        // Revealing the referral: referral.viewed, naming it.
        let subjectHTML = try ConsoleClient.get(refex, "/console/subjects/\(subject)").body
        let reveal = "/console/subjects/\(subject)/referrals/\(referral)/reveal"
        let token = try ConsoleClient.token(in: subjectHTML, action: reveal)
        let revealed = try newEntries {
            let response = try ConsoleClient.request(refex, "POST", reveal, form: ConsoleClient.form([("csrf", token)]), headers: ["Sec-Fetch-Site: same-origin"])
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.body.contains("Alex"), "the referral, decrypted")
        }
        XCTAssertEqual(revealed.count, 1)
        XCTAssertEqual(revealed.first?["event"], "referral.viewed")
        XCTAssertEqual(revealed.first?["actor"], "hub-admin")
        XCTAssertEqual(revealed.first?["referralId"]?.stringValue, referral)

        // The CSV is an export of the log, one entry; the entry page a `show`.
        let csv = try newEntries { XCTAssertEqual(try ConsoleClient.get(refex, "/console/log.csv?subject=\(subject)").status, 200) }
        XCTAssertEqual(csv.map { $0["details"]?["action"]?.stringValue }, ["export"])
        let show = try newEntries { XCTAssertEqual(try ConsoleClient.get(refex, "/console/log/1").status, 200) }
        XCTAssertEqual(show.map { $0["details"]?["action"]?.stringValue }, ["show"])

        // Pages that show no entry and no personal data read nothing and change nothing.
        let quiet = try newEntries {
            for path in ["/console/", "/console/charts", "/console/partners", "/console/subjects/\(subject)/erase", "/console/subjects/\(subject)/restrict",
                         "/console/subjects/\(subject)/rectify", "/console/static/console.css"] {
                XCTAssertEqual(try ConsoleClient.get(refex, path).status, 200, path)
            }
        }
        XCTAssertEqual(quiet.count, 0, "\(quiet)")

        // Verify now: the verification is recorded (as GET /v1/disclosures/verify records it) and shown.
        let overview = try ConsoleClient.get(refex, "/console/").body
        let verifyToken = try ConsoleClient.token(in: overview, action: "/console/verify")
        let verified = try newEntries {
            let response = try ConsoleClient.request(refex, "POST", "/console/verify", form: ConsoleClient.form([("csrf", verifyToken)]))
            XCTAssertEqual(response.status, 303)
            XCTAssertEqual(response.header("location"), "/console/")
        }
        XCTAssertEqual(verified.map { $0["details"]?["action"]?.stringValue }, ["verify"])
        XCTAssertEqual(verified.first?["details"]?["valid"], true)
        let after = try ConsoleClient.get(refex, "/console/").body
        XCTAssertTrue(after.contains("<strong class=\"ok\">Intact</strong>"), after)
    }

    func testAHostileReferralRendersInertOnEveryPage() throws {
        let refex = try RefexProcess(config: try config())
        let script = "<script>alert(1)</script>"
        let image = "\"><img src=x onerror=alert(1)>"
        let receipt = try ConsoleClient.submit(refex, reference: "CONSOLE-XSS") { referral in
            guard case .object(var subject)? = referral["subject"] else { return }
            subject["name"] = ["given": .string(script), "family": .string(image)]
            referral["subject"] = .object(subject)
            referral["supportNeeds"] = [["service": "domestic-abuse", "notes": "javascript:alert(1) and Alex\u{202E}elpmaxE and nul\u{0}"]]
        }
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let referral = try XCTUnwrap(receipt["id"]?.stringValue)
        let reveal = "/console/subjects/\(subject)/referrals/\(referral)/reveal"
        let token = try ConsoleClient.token(in: try ConsoleClient.get(refex, "/console/subjects/\(subject)").body, action: reveal)
        let revealed = try ConsoleClient.request(refex, "POST", reveal, form: ConsoleClient.form([("csrf", token)]))
        XCTAssertEqual(revealed.status, 200)
        let letter = try ConsoleClient.get(refex, "/console/subjects/\(subject)/letter")
        for (what, page) in [("revealed", revealed.body), ("letter", letter.body)] {
            XCTAssertFalse(page.contains("<script"), what)
            XCTAssertFalse(page.contains("<img"), what)
            XCTAssertFalse(page.contains("href=\"javascript"), what)
            XCTAssertFalse(page.contains("\u{202E}"), what)
            XCTAssertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), what)
            XCTAssertTrue(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), what)
            XCTAssertTrue(page.contains("Alex[U+202E]elpmaxE"), what)
            XCTAssertTrue(page.contains("nul[U+0000]"), what)
        }
    }
}
