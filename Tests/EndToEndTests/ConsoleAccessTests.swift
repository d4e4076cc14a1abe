import Foundation
import JSON
import TestSupport
import XCTest

/// The admin console (issue 16) through the built binary and curl: every page for an admin with
/// the console's headers; for anyone else, exactly what an unknown path answers.
final class ConsoleAccessTests: XCTestCase {
    static let csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func testAnAdminGetsEveryPageWithTheConsoleHeaders() throws {
        let refex = try RefexProcess(config: try RefexProcess.config())
        let receipt = try ConsoleClient.submit(refex, reference: "CONSOLE-PAGES")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let referral = try XCTUnwrap(receipt["id"]?.stringValue)
        let queued = try XCTUnwrap(receipt["disclosures"]?.arrayValue?.first { $0["state"] == "queued" })
        let queuedID = try XCTUnwrap(queued["id"]?.stringValue)
        let queuedRecipient = try XCTUnwrap(queued["recipient"]?.stringValue)

        let html = [
            "/console/", "/console/log", "/console/log?event=disclosure.authorised&basis=consent", "/console/log?subject=\(subject)&from=2020-01-01&to=2099-12-31",
            "/console/log/1", "/console/subjects/\(subject)", "/console/subjects/\(subject)/letter", "/console/subjects/\(subject)/restrict",
            "/console/subjects/\(subject)/lift", "/console/subjects/\(subject)/rectify", "/console/subjects/\(subject)/erase",
            "/console/overrides", "/console/overrides?month=2026-01&basis=vital-interests", "/console/charts", "/console/charts?from=2026-01-01&to=2026-01-31",
            "/console/partners",
        ]
        for path in html {
            let response = try ConsoleClient.get(refex, path)
            XCTAssertEqual(response.status, 200, "\(path): \(response.body.prefix(400))")
            ConsoleClient.assertConsoleHeaders(response, path)
            XCTAssertEqual(response.header("content-type"), "text/html; charset=utf-8", path)
            XCTAssertTrue(response.body.hasPrefix("<!doctype html>\n<html lang=\"en-GB\">"), path)
            XCTAssertTrue(response.body.contains("<main id=\"main\""), path)
            XCTAssertTrue(response.body.contains("<a class=\"skip-link\" href=\"#main\">"), path)
            XCTAssertEqual(response.body.components(separatedBy: "<h1>").count - 1, 1, path)
            XCTAssertFalse(response.body.contains("<script"), path)
        }
        for (path, type) in [
            ("/console/log.csv?subject=\(subject)", "text/csv; charset=utf-8"), ("/console/overrides.csv", "text/csv; charset=utf-8"),
            ("/console/subjects/\(subject)/export.json", "application/json"), ("/console/static/console.css", "text/css; charset=utf-8"),
        ] {
            let response = try ConsoleClient.get(refex, path)
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(response.header("content-type"), type, path)
            ConsoleClient.assertConsoleHeaders(response, path)
        }

        // The page contract the browser tests rely on.
        let log = try ConsoleClient.get(refex, "/console/log?subject=\(subject)").body
        XCTAssertTrue(log.contains("<form id=\"log-filters\" method=\"get\""))
        for name in ["subject", "referral", "recipient", "event", "basis", "actor", "from", "to"] {
            XCTAssertTrue(log.contains("name=\"\(name)\""), name)
        }
        XCTAssertTrue(log.contains("<table id=\"log-entries\">"))
        XCTAssertTrue(log.contains("<tr data-seq=\"1\">"))
        let page = try ConsoleClient.get(refex, "/console/subjects/\(subject)").body
        XCTAssertTrue(page.contains("<section class=\"timeline\" data-recipient=\"\(queuedRecipient)\">"))
        XCTAssertTrue(page.contains("data-disclosure=\"\(queuedID)\" data-state=\"queued\""))
        XCTAssertTrue(page.contains("data-state=\"awaiting-consent\""))
        XCTAssertTrue(page.contains("action=\"/console/subjects/\(subject)/referrals/\(referral)/reveal\""))
        // The referral itself is not on the page until asked for.
        XCTAssertFalse(page.contains("Alex"), "no referral value on the subject page")
        let csv = try ConsoleClient.get(refex, "/console/log.csv?subject=\(subject)").body
        XCTAssertTrue(csv.hasPrefix("seq,time,event,actor,referralId,subjectId"))

        // Errors are pages too, with the headers, and never repeat what was typed.
        let bad = try ConsoleClient.get(refex, "/console/log?subject=Alex%20Example")
        XCTAssertEqual(bad.status, 400)
        ConsoleClient.assertConsoleHeaders(bad, "bad filter")
        XCTAssertFalse(bad.body.contains("Alex"))
        XCTAssertEqual(try ConsoleClient.get(refex, "/console/subjects/00000000-0000-7000-8000-000000000000").status, 404)
        XCTAssertEqual(try ConsoleClient.get(refex, "/console/log/999999").status, 404)
        // The overview's counts follow the log: another referral is counted at once.
        func receivedIn30Days() throws -> String? {
            let body = try ConsoleClient.get(refex, "/console/").body
            guard let row = body.range(of: "<th scope=\"row\">Referrals received</th>") else { return nil }
            let cells = body[row.upperBound...].prefix { $0 != "\n" }.components(separatedBy: "<td>").dropFirst().map { $0.prefix { $0 != "<" } }
            return cells.count == 3 ? String(cells[2]) : nil
        }
        XCTAssertEqual(try receivedIn30Days(), "1")
        _ = try ConsoleClient.submit(refex, reference: "CONSOLE-PAGES-2")
        XCTAssertEqual(try receivedIn30Days(), "2")
        XCTAssertEqual(try receivedIn30Days(), "2", "counted once")
        // Opening a subject by the start of its id; a name is refused without being repeated.
        let opened = try ConsoleClient.get(refex, "/console/subjects?id=\(subject)")
        XCTAssertEqual(opened.status, 303)
        XCTAssertEqual(opened.header("location"), "/console/subjects/\(subject)")
        let byName = try ConsoleClient.get(refex, "/console/subjects?id=Alex")
        XCTAssertEqual(byName.status, 400)
        XCTAssertFalse(byName.body.contains("Alex"))
        XCTAssertEqual(try ConsoleClient.get(refex, "/console/subjects?id=ffffffff").status, 400)

        // The charts' tables hold the numbers the log has: today's authorisations under consent.
        let charts = try ConsoleClient.get(refex, "/console/charts").body
        XCTAssertTrue(charts.contains("<table class=\"chart-data\" id=\"by-basis-table\">"))
        let byBasis = try XCTUnwrap(charts.range(of: "id=\"by-basis-table\"").map { String(charts[$0.upperBound...]) })
        let lastRow = try XCTUnwrap(byBasis.components(separatedBy: "</tbody>").first?.components(separatedBy: "<tr>").last)
        XCTAssertTrue(lastRow.hasPrefix("<th scope=\"row\">"), lastRow)
        XCTAssertTrue(lastRow.contains("<td>2</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td>"), "two authorised under consent today: \(lastRow)")

        let redirect = try ConsoleClient.get(refex, "/console")
        XCTAssertEqual(redirect.status, 308)
        XCTAssertEqual(redirect.header("location"), "/console/")
    }

    func testAnyoneButAnAdminGetsExactlyTheUnknownPathsAnswer() throws {
        let refex = try RefexProcess(config: try RefexProcess.config())
        let receipt = try ConsoleClient.submit(refex, reference: "CONSOLE-HIDDEN")
        let subject = try XCTUnwrap(receipt["subjectId"]?.stringValue)
        let paths: [(String, String)] = [
            ("GET", "/console"), ("GET", "/console/"), ("GET", "/console/log"), ("GET", "/console/log?event=log.viewed"), ("GET", "/console/log.csv"),
            ("GET", "/console/log/1"), ("GET", "/console/subjects/\(subject)"), ("GET", "/console/subjects/\(subject)/export.json"),
            ("GET", "/console/static/console.css"), ("GET", "/console/partners"), ("POST", "/console/verify"),
            ("POST", "/console/subjects/\(subject)/erase"), ("DELETE", "/console/log"), ("GET", "/console/nothing-here"),
        ]
        for partner in ["police", "sink", "unknown"] {
            let unknown = try ConsoleClient.request(refex, "GET", "/no-such-path", as: partner)
            let unknownPost = try ConsoleClient.request(refex, "POST", "/no-such-path", as: partner)
            for (method, path) in paths {
                let response = try ConsoleClient.request(refex, method, path, as: partner, form: method == "POST" ? "csrf=x" : nil)
                let expected = method == "GET" ? unknown : unknownPost
                XCTAssertEqual(response.status, expected.status, "\(partner) \(method) \(path)")
                XCTAssertEqual(response.body, expected.body, "\(partner) \(method) \(path): byte for byte")
                XCTAssertEqual(ConsoleClient.headerNames(response), ConsoleClient.headerNames(expected), "\(partner) \(method) \(path)")
                XCTAssertNil(response.header("content-security-policy"))
            }
            XCTAssertEqual(unknown.status, partner == "unknown" ? 403 : 404, "the unknown path's own answer")
        }
        // Nothing was read or changed by them.
        XCTAssertEqual(try refex.logCount(event: "subject.erased"), 0)
        XCTAssertTrue(try refex.logViewedByPartners().isEmpty)
    }
}

/// curl as a browser on the console: pages, form tokens, posts.
enum ConsoleClient {
    static func submit(_ refex: RefexProcess, reference: String, change: (inout JSONObject) -> Void = { _ in }) throws -> JSONValue {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return .null }
        object["referenceId"] = .string(reference)
        change(&object)
        let response = try refex.request("POST", "/v1/referrals", .object(object))
        XCTAssertEqual(response.status, 202, response.body)
        return response.json ?? .null
    }

    static func request(
        _ refex: RefexProcess, _ method: String, _ path: String, as partner: String = "hub-admin", form: String? = nil, headers: [String] = []
    ) throws -> ClientResponse {
        var arguments = ["-X", method]
        if let form {
            let file = ProjectPaths.temporaryDirectory() + "/form.txt"
            try Data(form.utf8).write(to: URL(fileURLWithPath: file))
            arguments += ["-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", "@\(file)"]
        }
        for header in headers { arguments += ["-H", header] }
        let (result, response) = try Curl.request(arguments + ["\(refex.baseURL)\(path)"], as: partner)
        guard let response else { throw ConsoleClientError(description: result.errorOutput) }
        return response
    }

    /// The names of a response's headers but those that differ between any two answers.
    static func headerNames(_ response: ClientResponse) -> [String] {
        let varying: Set<String> = ["x-request-id", "date"]
        let names: [String] = response.headers.map { $0.0.lowercased() }
        return names.filter { !varying.contains($0) }.sorted()
    }

    static func get(_ refex: RefexProcess, _ path: String, as partner: String = "hub-admin") throws -> ClientResponse {
        try request(refex, "GET", path, as: partner)
    }

    /// The CSRF token of the form posting to `action` on `page`.
    static func token(in page: String, action: String) throws -> String {
        let marker = "action=\"\(action)\">\n<input type=\"hidden\" name=\"csrf\" value=\""
        guard let start = page.range(of: marker), let end = page[start.upperBound...].firstIndex(of: "\"") else {
            throw ConsoleClientError(description: "no form posting to \(action)")
        }
        return String(page[start.upperBound..<end])
    }

    /// `name=value&…`, percent-encoded as a browser does.
    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static func assertConsoleHeaders(_ response: ClientResponse, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.header("content-security-policy"), ConsoleAccessTests.csp, what, file: file, line: line)
        XCTAssertEqual(response.header("cache-control"), "no-store", what, file: file, line: line)
        XCTAssertEqual(response.header("x-content-type-options"), "nosniff", what, file: file, line: line)
        XCTAssertEqual(response.header("referrer-policy"), "no-referrer", what, file: file, line: line)
    }
}

struct ConsoleClientError: Error, CustomStringConvertible {
    var description: String
}
