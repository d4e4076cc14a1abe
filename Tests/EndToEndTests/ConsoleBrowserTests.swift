import Foundation
import JSON
import TestSupport
import XCTest

/// The console in a real browser (issue 16): Debian's headless Chromium, driven by Selenium
/// (Tests/browser/console_browser.py), presenting a partner's client certificate from an NSS
/// database to a started `refex serve` whose data was posted through the API.
///
/// `make console-shots` runs `testAxeFindsNoSeriousOrCriticalViolationOnAnyPage` with
/// REFEX_CONSOLE_SHOTS set to a folder, where it saves a screenshot of each page.
final class ConsoleBrowserTests: XCTestCase {
    private var fixture: ConsoleFixture?

    override func tearDown() {
        fixture?.stop()
        fixture = nil
    }

    private func start() throws -> ConsoleFixture {
        let fixture = try ConsoleFixture()
        self.fixture = fixture
        return fixture
    }

    private func browse(_ refex: RefexProcess, as partner: String = "hub-admin", _ plan: [JSONValue]) throws -> [JSONValue] {
        try ConsoleBrowser.run(refex, as: partner, plan)
    }

    /// Every page a GET reaches, for the fixture's rich subject.
    private func pages(_ fixture: ConsoleFixture) -> [String] { namedPages(fixture).map(\.path) }

    /// The pages with a name for each one's screenshot.
    private func namedPages(_ fixture: ConsoleFixture) -> [(name: String, path: String)] {
        let subject = "/console/subjects/\(fixture.subjectID)"
        return [
            ("overview", "/console/"), ("log", "/console/log"), ("log-one-subject", "/console/log?subject=\(fixture.subjectID)"),
            ("log-entry", "/console/log/\(fixture.firstSeq)"), ("subject", subject), ("subject-letter", "\(subject)/letter"),
            ("subject-restrict", "\(subject)/restrict"), ("subject-lift", "\(subject)/lift"), ("subject-rectify", "\(subject)/rectify"),
            ("subject-erase", "\(subject)/erase"), ("overrides", "/console/overrides?month=\(fixture.month)"), ("charts", "/console/charts"),
            ("partners", "/console/partners"),
        ]
    }

    // MARK: The harness

    /// The certificate in the browser's NSS database is the one refex sees.
    func testTheBrowserPresentsThePartnersCertificate() throws {
        let refex = try RefexProcess()
        defer { refex.stop() }
        for partner in ["hub-admin", "police"] {
            let results = try browse(refex, as: partner, [["op": "visit", "path": "/v1/whoami"]])
            XCTAssertEqual(ConsoleBrowser.status(results[0]), 200, "\(ConsoleBrowser.show(results[0]))")
            let text = results[0]["text"]?.stringValue ?? ""
            XCTAssertEqual((try? JSONValue.parse(text))?["partner"]?.stringValue, partner, text)
        }
    }

    // MARK: Who may see it

    func testEveryPageLoadsForTheAdminAndIsRefusedToAReferOnlyPartner() throws {
        let fixture = try start()
        let paths = pages(fixture) + ["/console/static/console.css"]
        let admin = try browse(fixture.refex, paths.map { ["op": "visit", "path": .string($0)] })
        for (path, page) in zip(paths, admin) {
            XCTAssertNil(page["error"], "\(path): \(ConsoleBrowser.show(page))")
            XCTAssertEqual(ConsoleBrowser.status(page), 200, "\(path): \(ConsoleBrowser.show(page))")
            let headers = page["response"]?["headers"]
            XCTAssertEqual(headers?["cache-control"]?.stringValue, "no-store", path)
            XCTAssertEqual(headers?["x-content-type-options"]?.stringValue, "nosniff", path)
            if path.hasSuffix(".css") { continue }
            let policy = headers?["content-security-policy"]?.stringValue ?? ""
            for directive in ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"] {
                XCTAssertTrue(policy.contains(directive), "\(path): CSP \(policy) lacks \(directive)")
            }
            XCTAssertEqual(headers?["referrer-policy"]?.stringValue, "no-referrer", path)
            XCTAssertEqual(page["lang"]?.stringValue, "en-GB", path)
            XCTAssertFalse((page["title"]?.stringValue ?? "").isEmpty, path)
            XCTAssertEqual(page["h1"]?.arrayValue?.count, 1, "\(path): \(ConsoleBrowser.show(page["h1"]))")
            XCTAssertEqual(page["mainId"]?.stringValue, "main", path)
            XCTAssertGreaterThanOrEqual(page["nav"]?.int64Value ?? 0, 1, path)
            XCTAssertEqual(page["firstLink"]?["href"]?.stringValue, "#main", "\(path): the skip link comes first")
            XCTAssertEqual(page["console"]?.arrayValue ?? [], [], "\(path): the browser complained (CSP, a missing file)")
        }

        // A refer-only partner: the same 404 as a path that does not exist, on every page and
        // every download.
        let unknown = "/console/no-such-page"
        let downloads = [
            "/console/log.csv", "/console/overrides.csv?month=\(fixture.month)", "/console/subjects/\(fixture.subjectID)/export.json",
        ]
        let refusedPaths = paths + downloads
        // What the admin's visits recorded (the letter is an export): police's must add nothing.
        func recorded() throws -> [String] {
            let log = try fixture.cli(["log", "list", "--subject", fixture.subjectID, "--exclude-event", "log.viewed", "--limit", "1000", "--json"])
            return log.output.split(separator: "\n").compactMap { (try? JSONValue.parse(String($0)))?["event"]?.stringValue }
        }
        let before = try recorded()
        let refused = try browse(fixture.refex, as: "police", (refusedPaths + [unknown]).map { ["op": "visit", "path": .string($0)] })
        let unknownPage = try XCTUnwrap(refused.last)
        XCTAssertEqual(ConsoleBrowser.status(unknownPage), 404, "\(ConsoleBrowser.show(unknownPage))")
        for (path, page) in zip(refusedPaths, refused) {
            XCTAssertEqual(ConsoleBrowser.status(page), 404, "\(path) as police: \(ConsoleBrowser.show(page))")
            XCTAssertEqual(page["text"], unknownPage["text"], "\(path) as police: not the unknown path's 404")
            XCTAssertFalse((page["text"]?.stringValue ?? "").contains(fixture.subjectID), path)
        }
        // Every action too (curl: a browser posts only from a form, and police has none to post).
        let subject = "/console/subjects/\(fixture.subjectID)"
        let unknownPost = try fixture.refex.request("POST", "/console/no-such-page", as: "police")
        for path in ["\(subject)/referrals/\(fixture.referralID)/reveal", "\(subject)/erase", "\(subject)/restrict", "\(subject)/lift",
                     "\(subject)/rectify", "/console/verify"] {
            let answer = try fixture.refex.request("POST", path, as: "police")
            XCTAssertEqual(answer.status, 404, "POST \(path) as police: \(answer.body)")
            XCTAssertEqual(answer.body, unknownPost.body, "POST \(path) as police: not the unknown path's 404")
        }
        XCTAssertEqual(try recorded(), before, "police's requests changed or read something")
        XCTAssertFalse(before.isEmpty)
    }

    // MARK: The log

    /// Each filter of the log page's form, submitted as a person would, lists the entries that
    /// `refex log list` lists with the same filter.
    func testLogFiltersGiveTheSameEntriesAsTheCLI() throws {
        let fixture = try start()
        let today = fixture.today
        let filters: [(form: [String: String], cli: [String])] = [
            (["subject": fixture.subjectID], ["--subject", fixture.subjectID]),
            (["referral": fixture.referralID], ["--referral", fixture.referralID]),
            (["recipient": "translation"], ["--recipient", "translation"]),
            (["event": "disclosure.withheld"], ["--event", "disclosure.withheld"]),
            (["basis": "legitimate-interests"], ["--basis", "legitimate-interests"]),
            (["actor": "hub-admin"], ["--actor", "hub-admin"]),
            (["subject": fixture.subjectID, "event": "disclosure.delivered"], ["--subject", fixture.subjectID, "--event", "disclosure.delivered"]),
            (["from": today, "to": today], ["--since", "\(today)T00:00:00Z", "--until", "\(fixture.tomorrow)T00:00:00Z"]),
        ]
        let plan: [JSONValue] = filters.map { filter in
            [
                "op": "submit", "path": "/console/log", "form": "#log-filters",
                "fill": .object(JSONObject(filter.form.map { ($0.key, JSONValue.string($0.value)) })),
                "select": ["rows": "#log-entries tr[data-seq]"], "text": false,
            ]
        }
        // The first filter's page again, and its CSV link: the same entries, every one that matches.
        let csvStep: JSONValue = ["op": "download", "selector": "a[href*='log.csv']"]
        let all = try browse(fixture.refex, plan + [csvStep])
        let results = Array(all.prefix(filters.count))
        let csv = try XCTUnwrap(all.last)
        XCTAssertNotNil(csv["file"]?.stringValue, "no CSV was downloaded: \(ConsoleBrowser.show(csv))")
        let lines = (csv["text"]?.stringValue ?? "").split(whereSeparator: \.isNewline)
        XCTAssertEqual(lines.first?.hasPrefix("seq,time,event,"), true, "\(lines.prefix(2))")
        let csvSeqs = lines.dropFirst().compactMap { Int64($0.prefix { $0 != "," }) }
        let lastPageSeqs = (results.last?["select"]?["rows"]?.arrayValue ?? []).compactMap { $0["attrs"]?["data-seq"]?.stringValue.flatMap { Int64($0) } }
        // Up to the page's newest entry: the reads since (log.viewed) are today's entries too.
        let newestShown = lastPageSeqs.max() ?? 0
        XCTAssertEqual(Set(csvSeqs.filter { $0 <= newestShown }), Set(lastPageSeqs), "the CSV of the date filter's view has the page's entries")
        XCTAssertFalse(lastPageSeqs.isEmpty)
        for (filter, page) in zip(filters, results) {
            XCTAssertNil(page["error"], "\(filter.form): \(ConsoleBrowser.show(page))")
            XCTAssertEqual(ConsoleBrowser.status(page), 200, "\(filter.form): \(ConsoleBrowser.show(page))")
            let shown = (page["select"]?["rows"]?.arrayValue ?? []).compactMap { $0["attrs"]?["data-seq"]?.stringValue.flatMap { Int64($0) } }
            XCTAssertFalse(shown.isEmpty, "\(filter.form): the fixture has entries for every filter")
            XCTAssertEqual(shown, shown.sorted(by: >), "\(filter.form): newest first")
            for (name, value) in filter.form {
                XCTAssertTrue((page["url"]?.stringValue ?? "").contains("\(name)=\(value)"), "\(filter.form): the filter is in the URL")
            }
            // The CLI, afterwards, up to the newest entry the page showed: entries appended since
            // (the reads themselves, log.viewed) are newer than every entry the page could show.
            let newest = shown.max() ?? 0
            let listed = try fixture.cli(["log", "list"] + filter.cli + ["--newest-first", "--before", String(newest + 1), "--limit", "1000", "--json"])
            XCTAssertEqual(listed.status, 0, listed.errorOutput)
            let expected = listed.output.split(separator: "\n").compactMap { (try? JSONValue.parse(String($0)))?["seq"]?.int64Value }
            XCTAssertEqual(shown, expected, "\(filter.form) against refex log list \(filter.cli.joined(separator: " "))")
        }
    }

    // MARK: A subject

    /// Consented and delivered (dv-support), overridden and failed (victim-support, a dead
    /// endpoint), withheld for want of consent (translation): each shown as what it is.
    func testTheSubjectPageShowsEachKindOfDisclosure() throws {
        let fixture = try start()
        let results = try browse(fixture.refex, [[
            "op": "visit", "path": .string("/console/subjects/\(fixture.subjectID)"),
            "select": ["timelines": "section.timeline[data-recipient]", "disclosures": "[data-disclosure]"],
        ]])
        let page = results[0]
        XCTAssertEqual(ConsoleBrowser.status(page), 200, "\(ConsoleBrowser.show(page))")
        let timelines = page["select"]?["timelines"]?.arrayValue ?? []
        XCTAssertEqual(Set(timelines.compactMap { $0["attrs"]?["data-recipient"]?.stringValue }), ["dv-support", "victim-support", "translation"])
        let disclosures = page["select"]?["disclosures"]?.arrayValue ?? []
        func disclosure(_ recipient: String) -> (state: String?, text: String) {
            let id = fixture.disclosures[recipient] ?? ""
            let element = disclosures.first { $0["attrs"]?["data-disclosure"]?.stringValue == id }
            return (element?["attrs"]?["data-state"]?.stringValue, element?["text"]?.stringValue ?? "")
        }
        let consented = disclosure("dv-support")
        XCTAssertEqual(consented.state, "delivered", consented.text)
        for words in ["Delivered", "Consent", "PC Sam Sample", "verbal"] {
            XCTAssertTrue(consented.text.contains(words), "dv-support lacks \(words): \(consented.text)")
        }
        let overridden = disclosure("victim-support")
        XCTAssertEqual(overridden.state, "failed", overridden.text)
        for words in ["Delivery failed", "legitimate interests", ConsoleFixture.justification, "Authorised by"] {
            XCTAssertTrue(overridden.text.localizedCaseInsensitiveContains(words), "victim-support lacks \(words): \(overridden.text)")
        }
        let withheld = disclosure("translation")
        XCTAssertEqual(withheld.state, "awaiting-consent", withheld.text)
        XCTAssertTrue(withheld.text.contains("Withheld until consent is recorded"), withheld.text)
        XCTAssertFalse(withheld.text.contains("Lawful basis"), "a withheld disclosure has no basis: \(withheld.text)")
    }

    /// The subject access export downloads as JSON from the subject page's link, and the log
    /// records `subject.exported` by the admin.
    func testSubjectAccessExportDownloadsAndIsLogged() throws {
        let fixture = try start()
        let results = try browse(fixture.refex, [[
            "op": "download", "path": .string("/console/subjects/\(fixture.subjectID)"), "selector": "a[href$='/export.json']",
        ]])
        let download = results[0]
        XCTAssertNotNil(download["file"]?.stringValue, "no file was downloaded: \(ConsoleBrowser.show(download))")
        let export = try JSONValue.parse(download["text"]?.stringValue ?? "")
        XCTAssertEqual(export["subjectId"]?.stringValue, fixture.subjectID)
        XCTAssertEqual(export["referrals"]?.arrayValue?.count, 1, "\(ConsoleBrowser.show(export))")
        let logged = try fixture.cli(["log", "list", "--subject", fixture.subjectID, "--event", "subject.exported", "--json"])
        let entries = logged.output.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        XCTAssertEqual(entries.count, 1, logged.output + logged.errorOutput)
        XCTAssertEqual(entries.first?["actor"]?.stringValue, "hub-admin", logged.output)
    }

    /// Erasing through the confirmation page: the subject is erased, the recipients that received
    /// something are sent notices, and the subject page then shows only the pseudonymous log.
    func testEraseThroughTheConfirmationErasesAndNoticesAreQueued() throws {
        let fixture = try start()
        let subject = "/console/subjects/\(fixture.subjectID)"
        let results = try browse(fixture.refex, [
            ["op": "visit", "path": .string("\(subject)/erase"), "select": ["told": "main li"]],
            ["op": "submit", "form": "form[method=post]", "fill": ["reason": "Asked to be forgotten"]],
            ["op": "visit", "path": .string(subject), "select": [
                "reveal": "form[action$='/reveal']", "disclosures": "[data-disclosure]", "rows": "#log-entries tr[data-seq]",
            ]],
        ])
        let confirmation = results[0]
        XCTAssertEqual(ConsoleBrowser.status(confirmation), 200, "\(ConsoleBrowser.show(confirmation))")
        let confirmationText = confirmation["text"]?.stringValue ?? ""
        XCTAssertTrue(confirmationText.contains("DV service"), "the confirmation names who will be told: \(confirmationText)")
        let done = results[1]
        XCTAssertEqual(ConsoleBrowser.status(done), 200, "\(ConsoleBrowser.show(done))")
        XCTAssertTrue((done["text"]?.stringValue ?? "").contains("Done"), "\(ConsoleBrowser.show(done))")

        let erased = try fixture.cli(["log", "list", "--subject", fixture.subjectID, "--event", "subject.erased", "--json"])
        XCTAssertEqual(erased.output.split(separator: "\n").count, 1, erased.output + erased.errorOutput)
        XCTAssertTrue(erased.output.contains("hub-admin"), "erased by the admin: \(erased.output)")
        let notices = try fixture.cli(["log", "list", "--subject", fixture.subjectID, "--event", "notice.queued", "--json"])
        let queued = notices.output.split(separator: "\n").compactMap { (try? JSONValue.parse(String($0)))?["recipient"]?.stringValue }
        XCTAssertTrue(queued.contains("dv-support"), "an erasure notice for the recipient that received the data: \(notices.output)")
        let dvDisclosure = fixture.disclosures["dv-support"] ?? ""
        XCTAssertTrue(fixture.sink.wait { fixture.sink.files.contains { $0.hasPrefix("\(dvDisclosure).erasure-notice.") } }, "\(fixture.sink.files)")

        let after = results[2]
        XCTAssertEqual(ConsoleBrowser.status(after), 200, "\(ConsoleBrowser.show(after))")
        XCTAssertEqual(after["select"]?["reveal"]?.arrayValue?.count, 0, "nothing left to reveal")
        XCTAssertFalse(after["select"]?["rows"]?.arrayValue?.isEmpty ?? true, "the pseudonymous log remains")
        let text = after["text"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("Erased"), text)
        for personal in ["Alex", "Example", "PC Sam Sample", "Explained the privacy notice"] {
            XCTAssertFalse(text.contains(personal), "the erased subject's page still shows \(personal)")
        }
    }

    // MARK: Security

    /// A referral and consent whose free text holds markup, a `javascript:` URL and a
    /// right-to-left override: shown as text on every page that shows them, never run.
    func testAHostileReferralRendersInert() throws {
        let fixture = try start()
        let subject = "/console/subjects/\(fixture.hostileSubjectID)"
        let paths = [subject, "/console/log?subject=\(fixture.hostileSubjectID)", "\(subject)/letter", "\(subject)/erase", "/console/overrides?month=\(fixture.month)"]
        var plan: [JSONValue] = paths.map { ["op": "visit", "path": .string($0)] }
        plan.append(["op": "submit", "path": .string(subject), "form": "form[action$='/reveal']"])
        let results = try browse(fixture.refex, plan)
        for (index, page) in results.enumerated() {
            let name = index < paths.count ? paths[index] : "the revealed referral"
            XCTAssertNil(page["error"], "\(name): \(ConsoleBrowser.show(page))")
            XCTAssertEqual(ConsoleBrowser.status(page), 200, "\(name): \(ConsoleBrowser.show(page))")
            XCTAssertEqual(page["alert"], .null, "\(name): an alert ran")
            let probe = page["probe"]
            XCTAssertEqual(probe?["inlineScripts"]?.int64Value, 0, "\(name): \(ConsoleBrowser.show(probe))")
            XCTAssertEqual(probe?["scripts"]?.arrayValue?.filter { !($0.stringValue ?? "").hasPrefix(fixture.refex.baseURL) }, [], "\(name): \(ConsoleBrowser.show(probe))")
            XCTAssertEqual(probe?["eventHandlerAttributes"]?.int64Value, 0, "\(name): \(ConsoleBrowser.show(probe))")
            XCTAssertEqual(probe?["javascriptURLs"]?.int64Value, 0, "\(name): \(ConsoleBrowser.show(probe))")
            XCTAssertEqual(probe?["imagesWithSrcX"]?.int64Value, 0, "\(name): \(ConsoleBrowser.show(probe))")
            XCTAssertEqual(probe?["frames"]?.int64Value, 0, "\(name): \(ConsoleBrowser.show(probe))")
            XCTAssertFalse((page["text"]?.stringValue ?? "").contains("\u{202E}"), "\(name): a raw right-to-left override")
        }
        // Readable: the payloads are there as text where the page shows them.
        let consentPage = results[0]["text"]?.stringValue ?? ""
        XCTAssertTrue(consentPage.contains(ConsoleFixture.imagePayload), "the consent's obtainedBy as text: \(consentPage)")
        let revealed = results[paths.count]["text"]?.stringValue ?? ""
        for text in [ConsoleFixture.scriptPayload, ConsoleFixture.imagePayload, "javascript:alert(1)", "[U+202E]"] {
            XCTAssertTrue(revealed.contains(text), "the revealed referral shows \(text) as text: \(revealed)")
        }
    }

    /// A page on another origin auto-submitting a form to the console (with a token lifted
    /// from the admin's own confirmation page, so that only the origin check stands in the way):
    /// refused, and nothing changes.
    func testACrossOriginPostIsRefusedAndChangesNothing() throws {
        let fixture = try start()
        let action = "/console/subjects/\(fixture.subjectID)/erase"
        let before = try fixture.cli(["log", "list", "--subject", fixture.subjectID, "--json"]).output.split(separator: "\n").count
        let results = try browse(fixture.refex, [[
            "op": "crossOriginPost", "action": .string(action), "csrfFrom": .string(action), "fields": ["reason": "The subject asked to be forgotten by phone"],
        ]])
        let page = results[0]
        XCTAssertNil(page["error"], "\(ConsoleBrowser.show(page))")
        XCTAssertEqual(page["csrfFound"], true, "the token was lifted from the confirmation page: \(ConsoleBrowser.show(page))")
        // 403, the form refused: a form that would pass every other check (a valid token, a reason
        // refex accepts), so that nothing but its origin stands between it and the erasure.
        XCTAssertEqual(ConsoleBrowser.status(page), 403, "a cross-site POST: \(ConsoleBrowser.show(page))")
        XCTAssertEqual(page["response"]?["requestHeaders"]?["sec-fetch-site"]?.stringValue, "cross-site", "\(ConsoleBrowser.show(page))")
        let after = try fixture.cli(["log", "list", "--subject", fixture.subjectID, "--exclude-event", "log.viewed", "--json"])
        XCTAssertFalse(after.output.contains("subject.erased"), after.output)
        XCTAssertFalse(after.output.contains("notice.queued"), after.output)
        XCTAssertGreaterThan(before, 0)
    }

    // MARK: Accessibility

    /// axe-core on every page: no violation of serious or critical impact.
    func testAxeFindsNoSeriousOrCriticalViolationOnAnyPage() throws {
        let fixture = try start()
        let shots = ProcessInfo.processInfo.environment["REFEX_CONSOLE_SHOTS"].flatMap { $0.isEmpty ? nil : $0 }
        let named = namedPages(fixture) + [("hostile-subject", "/console/subjects/\(fixture.hostileSubjectID)")]
        let paths = named.map(\.path)
        var plan: [JSONValue] = named.enumerated().map { index, page in
            var step: JSONObject = ["op": "visit", "path": .string(page.path), "axe": true, "text": false]
            if let shots { step["screenshot"] = .string("\(shots)/\(String(format: "%02d", index + 1))-\(page.name).png") }
            return .object(step)
        }
        var revealStep: JSONObject = ["op": "submit", "path": .string("/console/subjects/\(fixture.subjectID)"), "form": "form[action$='/reveal']", "axe": true, "text": false]
        if let shots { revealStep["screenshot"] = .string("\(shots)/\(String(format: "%02d", paths.count + 1))-revealed-referral.png") }
        plan.append(.object(revealStep))
        let results = try browse(fixture.refex, plan)
        for (index, page) in results.enumerated() {
            let name = index < paths.count ? paths[index] : "the revealed referral"
            XCTAssertNil(page["error"], "\(name): \(ConsoleBrowser.show(page))")
            XCTAssertEqual(ConsoleBrowser.status(page), 200, "\(name): \(ConsoleBrowser.show(page))")
            XCTAssertEqual(page["axe"], [], "\(name): \(ConsoleBrowser.show(page["axe"]))")
        }
    }

    /// Keyboard only: Tab from the top reaches the skip link, every navigation link and the
    /// log's filter form, each with focus visible; Enter on the skip link moves to the main content.
    func testKeyboardReachesTheNavigationAndAFormWithFocusVisible() throws {
        let fixture = try start()
        let results = try browse(fixture.refex, [
            ["op": "keyboard", "path": "/console/log", "tabs": 16],
            ["op": "keyboard", "path": "/console/log", "tabs": 1, "activate": true],
        ])
        let focused = results[0]["focused"]?.arrayValue ?? []
        XCTAssertEqual(focused.first?["href"]?.stringValue, "#main", "the skip link first: \(ConsoleBrowser.show(focused))")
        let navLinks = Set(focused.filter { $0["insideNav"]?.boolValue == true }.compactMap { $0["href"]?.stringValue })
        for page in ["/console/", "/console/log", "/console/overrides", "/console/charts", "/console/partners"] {
            XCTAssertTrue(navLinks.contains { $0.hasPrefix(page) && !$0.dropFirst(page.count).contains("/") }, "Tab never reached \(page): \(navLinks)")
        }
        XCTAssertTrue(focused.contains { $0["form"]?.stringValue == "log-filters" }, "Tab never reached the filter form: \(ConsoleBrowser.show(focused))")
        for element in focused where element != .null {
            // Chromium gives a date input's focus to the segment inside it (day, month, year),
            // which it highlights itself; the input then matches :focus but not :focus-visible.
            if ["date", "time", "datetime-local", "month"].contains(element["type"]?.stringValue ?? "") { continue }
            XCTAssertEqual(element["focusVisible"], true, "\(ConsoleBrowser.show(element))")
            let outline = element["outlineStyle"]?.stringValue ?? "none"
            let shadow = element["boxShadow"]?.stringValue ?? "none"
            XCTAssertTrue(outline != "none" || shadow != "none", "no visible focus indicator: \(ConsoleBrowser.show(element))")
        }
        let skipped = results[1]["afterEnter"]
        XCTAssertEqual(skipped?["hash"]?.stringValue, "#main", "\(ConsoleBrowser.show(skipped))")
        XCTAssertEqual(skipped?["focused"]?["id"]?.stringValue, "main", "focus moves to the main content: \(ConsoleBrowser.show(skipped))")
    }
}

/// refex with a sink, data posted through the API: one subject with a consented delivered
/// disclosure (dv-support), an overridden failed one (victim-support, whose endpoint is dead)
/// and a withheld one (translation, no consent); and a hostile subject whose free text is markup.
private final class ConsoleFixture {
    static let justification = "Repeat victim at high risk; support cannot wait for consent to be sought again."
    static let scriptPayload = "<script>alert(1)</script>"
    static let imagePayload = "\"><img src=x onerror=alert(1)>"
    /// Free text that names no one (refex refuses a justification holding the referral's names).
    static let hostileJustification = "Risk assessed as high at the meeting <svg onload=confirm(3)> <a href=javascript:confirm(4)>link</a> \u{202E}gnp.exe"

    let sink: SinkProcess
    let refex: RefexProcess
    let subjectID: String
    let referralID: String
    /// The rich referral's disclosures by recipient.
    let disclosures: [String: String]
    let hostileSubjectID: String
    let firstSeq: Int64
    /// Today as `YYYY-MM-DD` (UTC: the console's default time zone is Europe/London, which is
    /// UTC outside summer time; the filter test allows for the offset by the CLI range).
    let today: String
    let tomorrow: String
    let month: String

    init() throws {
        sink = try SinkProcess()
        var config = try RefexProcess.config()
        var recipients = try RefexProcess.recipients(endpoint: sink.endpoint)
        // victim-support's endpoint: a port nobody listens on, so its deliveries fail.
        if case .object(var victim) = recipients[1], case .object(var delivery) = victim["delivery"] {
            delivery["endpoint"] = .string("https://localhost:\(ConsoleFixture.deadPort())/deliveries")
            victim["delivery"] = .object(delivery)
            recipients[1] = .object(victim)
        }
        config["recipients"] = .array(recipients)
        config["delivery"] = [
            "clientCertificate": .string(try TestPKI.certificate("refex-client")), "clientKey": .string(try TestPKI.key("refex-client")),
            "backoffBaseMilliseconds": 100, "backoffMaxSeconds": 1, "pollIntervalMilliseconds": 50, "maxAgeSeconds": 2,
            "circuitFailures": 1000,
        ]
        refex = try RefexProcess(config: config)
        do {
            let receipt = try Self.post(refex, "/v1/referrals", try Self.referral { object in
                object["supportNeeds"] = [["service": "domestic-abuse"], ["service": "general-victim-support"], ["service": "translation"]]
            })
            referralID = try Self.string(receipt, "id")
            subjectID = try Self.string(receipt, "subjectId")
            var byRecipient: [String: String] = [:]
            for item in receipt["disclosures"]?.arrayValue ?? [] {
                if let recipient = item["recipient"]?.stringValue, let id = item["id"]?.stringValue { byRecipient[recipient] = id }
            }
            disclosures = byRecipient
            guard Set(byRecipient.keys) == ["dv-support", "victim-support", "translation"] else {
                throw SubprocessError(description: "the referral's disclosures: \(receipt)")
            }
            _ = try Self.post(refex, "/v1/referrals/\(referralID)/overrides", [
                "recipient": "victim-support", "service": "general-victim-support", "lawfulBasis": "legitimate-interests",
                "justification": .string(Self.justification),
            ], as: "hub-admin", expect: 201)

            let hostile = try Self.post(refex, "/v1/referrals", try Self.referral { object in
                object["referenceId"] = "HOSTILE-1"
                object["subject"]?.set("name", ["given": .string(Self.scriptPayload), "family": .string(Self.imagePayload)])
                object["offence"]?.set("description", "See javascript:alert(1) and \u{202E}gnp.exe")
                object["supportNeeds"] = [["service": "domestic-abuse", "notes": .string("\(Self.scriptPayload) javascript:alert(1)")], ["service": "general-victim-support"]]
                object["consent"]?.set("obtainedBy", .string(Self.imagePayload))
                object["consent"]?.set("notes", .string("\(Self.scriptPayload) \u{202E}txet"))
            })
            hostileSubjectID = try Self.string(hostile, "subjectId")
            let hostileReferral = try Self.string(hostile, "id")
            _ = try Self.post(refex, "/v1/referrals/\(hostileReferral)/overrides", [
                "recipient": "victim-support", "service": "general-victim-support", "lawfulBasis": "vital-interests",
                "justification": .string(Self.hostileJustification),
            ], as: "hub-admin", expect: 201)

            // Wait for what delivery does: dv-support delivered, victim-support failed.
            let settled = waitUntil(timeout: 30) { [refex, referralID] in
                let states = (try? refex.request("GET", "/v1/referrals/\(referralID)"))?.json?["disclosures"]?.arrayValue ?? []
                let byState = Dictionary(states.compactMap { d in d["recipient"]?.stringValue.map { ($0, d["state"]?.stringValue ?? "") } }) { $1 }
                return byState["dv-support"] == "delivered" && byState["victim-support"] == "failed"
            }
            guard settled else { throw SubprocessError(description: "deliveries did not settle:\n\(refex.logText)") }
            let first = try Self.cli(refex, ["log", "list", "--limit", "1", "--json"])
            firstSeq = (try? JSONValue.parse(first.output.split(separator: "\n").first.map(String.init) ?? ""))?["seq"]?.int64Value ?? 1
        } catch {
            refex.stop()
            sink.stop()
            throw error
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/London")
        formatter.dateFormat = "yyyy-MM-dd"
        today = formatter.string(from: Date())
        tomorrow = formatter.string(from: Date().addingTimeInterval(86_400))
        month = String(today.prefix(7))
    }

    func stop() {
        refex.stop()
        sink.stop()
    }

    func cli(_ arguments: [String]) throws -> SubprocessResult { try Self.cli(refex, arguments) }

    static func cli(_ refex: RefexProcess, _ arguments: [String]) throws -> SubprocessResult {
        try Subprocess.run(ProjectPaths.refexBinary, arguments + ["--config", refex.configPath], timeout: 60)
    }

    static func referral(_ changes: (inout JSONObject) -> Void) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string("CONSOLE-\(UUID().uuidString.prefix(8))")
        changes(&object)
        return .object(object)
    }

    static func post(_ refex: RefexProcess, _ path: String, _ body: JSONValue, as partner: String = "police", expect: Set<Int> = [202]) throws -> JSONValue {
        let response = try refex.request("POST", path, body, as: partner)
        guard expect.contains(response.status) else {
            throw SubprocessError(description: "POST \(path) answered \(response.status): \(response.body)")
        }
        return response.json ?? .null
    }

    static func post(_ refex: RefexProcess, _ path: String, _ body: JSONValue, as partner: String = "police", expect: Int) throws -> JSONValue {
        try post(refex, path, body, as: partner, expect: [expect])
    }

    static func string(_ value: JSONValue, _ key: String) throws -> String {
        guard let text = value[key]?.stringValue else { throw SubprocessError(description: "no \(key) in \(value)") }
        return text
    }

    /// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
    static func deadPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }
}

private extension JSONValue {
    mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var object) = self else { return }
        object[key] = value
        self = .object(object)
    }
}
