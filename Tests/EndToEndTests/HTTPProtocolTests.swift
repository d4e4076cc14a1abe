import JSON
import TestSupport
import XCTest

/// HTTP/1.1 on the wire, through curl and Python's ssl against the built daemon.
final class HTTPProtocolTests: XCTestCase {
    static let refex = Shared<RefexProcess>()

    /// Small limits, so that each can be crossed cheaply.
    private func daemon() throws -> RefexProcess {
        try Self.refex.get {
            try RefexProcess(config: try RefexProcess.config([
                "limits": ["eventLoops": 2, "maxBodyBytes": 4096, "maxHeaderBytes": 2048, "maxTargetBytes": 1024,
                           "headerTimeoutSeconds": 1, "bodyTimeoutSeconds": 1, "idleTimeoutSeconds": 2],
            ]))
        }
    }

    override class func tearDown() { refex.reset() }

    private func raw(_ data: String, partner: String? = "police", readSeconds: Double = 3) throws -> (text: String, closed: Bool) {
        let result = try PythonTLSClient.run(
            port: try daemon().apiPort, partner: partner, ["--read-seconds", String(readSeconds), "send", "--data", data]
        )
        return (result["response"]?.stringValue ?? "", result["closed"]?.boolValue ?? false)
    }

    /// The status of every response in `text` (responses follow each other with no separator).
    private func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    // MARK: Status codes, each provoked by a real request

    func testUnknownPathIs404ProblemJSON() throws {
        let (_, response) = try Curl.request(["\(try daemon().baseURL)/v1/nothing"], as: "police")
        XCTAssertEqual(response?.status, 404)
        XCTAssertEqual(response?.header("content-type"), "application/problem+json")
        XCTAssertEqual(response?.json?["status"]?.int64Value, 404)
        XCTAssertNotNil(response?.json?["title"]?.stringValue)
        XCTAssertNotNil(response?.json?["detail"]?.stringValue)
    }

    func testWrongMethodIs405WithAllow() throws {
        let (_, response) = try Curl.request(["-X", "DELETE", "\(try daemon().baseURL)/v1/whoami"], as: "police")
        XCTAssertEqual(response?.status, 405)
        XCTAssertEqual(response?.header("allow"), "GET, HEAD")
    }

    func testPostWithoutBodyOrLengthHasAnEmptyBody() throws {
        // `curl -X POST …/ack` sends neither Content-Length nor a body: RFC 9112 §6.3, no content.
        let (_, ack) = try Curl.request(["-X", "POST", "\(try daemon().baseURL)/v1/mailbox/\(UUID().uuidString.lowercased())/ack"], as: "sink")
        XCTAssertEqual(ack?.status, 404, "an unknown item, not 411")
        let (_, referral) = try Curl.request(["-X", "POST", "\(try daemon().baseURL)/v1/referrals"], as: "police")
        XCTAssertEqual(referral?.status, 415, "an empty body without a JSON media type, not 411")
        // On one connection, the request after it is read as its own.
        let (text, _) = try raw("POST /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\n\\r\\nGET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nConnection: close\\r\\n\\r\\n")
        XCTAssertEqual(statuses(text), [405, 200])
    }

    func testBodyOverTheLimitIs413() throws {
        let body = String(repeating: "x", count: 5000)
        let (_, response) = try Curl.request(
            ["-X", "GET", "-H", "Content-Type: application/json", "-H", "Expect:", "--data-binary", body, "\(try daemon().baseURL)/v1/whoami"],
            as: "police"
        )
        XCTAssertEqual(response?.status, 413)
        XCTAssertEqual(response?.header("connection"), "close")
    }

    func testChunkedBodyOverTheLimitIs413() throws {
        let chunk = String(repeating: "a", count: 3000)
        let request = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nbb8\\r\\n\(chunk)\\r\\nbb8\\r\\n\(chunk)\\r\\n0\\r\\n\\r\\n"
        XCTAssertEqual(statuses(try raw(request).text), [413])
    }

    func testLongTargetIs414() throws {
        let (_, response) = try Curl.request(["\(try daemon().baseURL)/v1/\(String(repeating: "a", count: 2000))"], as: "police")
        XCTAssertEqual(response?.status, 414)
    }

    func testBodyThatIsNotJSONIs415() throws {
        let (_, response) = try Curl.request(
            ["-X", "GET", "-H", "Content-Type: text/plain", "--data-binary", "hello", "\(try daemon().baseURL)/v1/whoami"], as: "police"
        )
        XCTAssertEqual(response?.status, 415)
    }

    func testHeadersOverTheLimitAre431() throws {
        let (_, response) = try Curl.request(
            ["-H", "X-Big: \(String(repeating: "b", count: 3000))", "\(try daemon().baseURL)/v1/whoami"], as: "police"
        )
        XCTAssertEqual(response?.status, 431)
    }

    func testOtherHTTPVersionIs505() throws {
        let (text, closed) = try raw("GET /v1/whoami HTTP/2.0\\r\\nHost: localhost\\r\\n\\r\\n")
        XCTAssertEqual(statuses(text), [505])
        XCTAssertTrue(closed)
    }

    func testMalformedRequestsAre400() throws {
        for request in [
            "GET  /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n",
            "GET /v1/whoami HTTP/1.1\\r\\n\\r\\n",
            "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nBad Header: x\\r\\n\\r\\n",
            "POST /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: 2\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n",
            "GET /v1/whoami HTTP/1.1\\nHost: localhost\\n\\n",
        ] {
            let (text, closed) = try raw(request)
            XCTAssertEqual(statuses(text), [400], request)
            XCTAssertTrue(text.contains("application/problem+json"), request)
            XCTAssertTrue(closed, "a connection that sent a malformed request is closed: \(request)")
        }
    }

    func testUnsupportedTransferCodingIs501AndExpectationIs417() throws {
        XCTAssertEqual(statuses(try raw("POST /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n").text), [501])
        XCTAssertEqual(statuses(try raw("GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nExpect: teapot\\r\\nContent-Length: 2\\r\\n\\r\\n{}").text), [417])
    }

    // MARK: Connection handling

    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let url = "\(try daemon().baseURL)/v1/whoami"
        let (result, _) = try Curl.request(["-v", url, url, url], as: "police")
        XCTAssertEqual(result.status, 0, result.errorOutput)
        XCTAssertEqual(result.errorOutput.components(separatedBy: "Re-using existing connection").count - 1, 2, result.errorOutput)
        XCTAssertEqual(result.output.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 3)
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let one = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
        let two = "GET /v1/nothing HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
        let three = "DELETE /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
        let four = "HEAD /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n"
        let (text, closed) = try raw(one + two + three + four)
        XCTAssertEqual(statuses(text), [200, 404, 405, 200])
        XCTAssertTrue(closed)
        // HEAD: the headers of GET, no body after them.
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"), "HEAD must not send a body")
    }

    func testThousandsOfPipelinedRequestsAreAllAnswered() throws {
        // Far more answers than the pending-output limit: answering must resume as output drains.
        let one = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
        let last = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n"
        let result = try PythonTLSClient.run(
            port: try daemon().apiPort, partner: "police",
            ["--read-seconds", "20", "send", "--data", one, "--repeat", "2999", "--then", last, "--statuses-only"]
        )
        let statuses = result["statuses"]?.arrayValue?.compactMap(\.int64Value) ?? []
        let closed = result["closed"]?.boolValue ?? false
        XCTAssertEqual(statuses.count, 3000)
        XCTAssertEqual(Set(statuses), [200])
        XCTAssertTrue(closed)
    }

    func testChunkedRequestBodyIsAccepted() throws {
        let request = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n"
        XCTAssertEqual(statuses(try raw(request).text), [200])
        let (_, response) = try Curl.request(
            ["-X", "GET", "-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json", "--data-binary", "{}", "\(try daemon().baseURL)/v1/whoami"],
            as: "police"
        )
        XCTAssertEqual(response?.status, 200)
    }

    func testThousandsOfTinyChunksInOneWriteAreRefusedNotFatal() throws {
        // One read holding 5,000 one-byte chunks (600 were enough) once overflowed an event loop's stack.
        let request = "POST /v1/referrals HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
            + String(repeating: "1\\r\\n \\r\\n", count: 5000)
        let (text, closed) = try raw(request, readSeconds: 5)
        XCTAssertEqual(statuses(text), [413])
        XCTAssertTrue(closed)
        let (_, response) = try Curl.request(["\(try daemon().baseURL)/v1/whoami"], as: "police")
        XCTAssertEqual(response?.status, 200, "the daemon must still be serving")
    }

    func testExpectContinueGetsAnInterimResponse() throws {
        let (result, response) = try Curl.request(
            ["-X", "GET", "-H", "Expect: 100-continue", "-H", "Content-Type: application/json", "--data-binary", "{\"a\":1}", "\(try daemon().baseURL)/v1/whoami"],
            as: "police"
        )
        XCTAssertEqual(response?.statusLines.first, "HTTP/1.1 100 Continue", result.output)
        XCTAssertEqual(response?.status, 200)
    }

    func testConnectionCloseIsHonoured() throws {
        let (text, closed) = try raw("GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n")
        XCTAssertEqual(statuses(text), [200])
        XCTAssertTrue(text.contains("Connection: close"))
        XCTAssertTrue(closed)
    }

    func testHTTP10ClosesByDefault() throws {
        let (text, closed) = try raw("GET /v1/whoami HTTP/1.0\\r\\n\\r\\n")
        XCTAssertEqual(statuses(text), [200])
        XCTAssertTrue(closed)
    }

    // MARK: Time limits

    func testSlowHeaderClientIsDisconnected() throws {
        let result = try PythonTLSClient.run(
            port: try daemon().apiPort, partner: "police",
            ["slow", "--interval", "0.4", "--data", "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\r\\n\\r\\n"]
        )
        let closedAfter = try XCTUnwrap(result["closedAfter"]?.doubleValue, "the server never closed the slow client")
        // headerTimeoutSeconds is 1; the deadline is checked every 250 ms.
        XCTAssertLessThan(closedAfter, 3.0)
        XCTAssertLessThan(result["sent"]?.int64Value ?? 0, 40)
        XCTAssertTrue(result["response"]?.stringValue?.contains("408") ?? false)
    }

    func testSlowBodyClientIsDisconnected() throws {
        let result = try PythonTLSClient.run(
            port: try daemon().apiPort, partner: "police",
            ["slow", "--interval", "0.2", "--data", "GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nContent-Type: application/json\\r\\nContent-Length: 60\\r\\n\\r\\n" + String(repeating: " ", count: 60)]
        )
        XCTAssertNotNil(result["closedAfter"]?.doubleValue)
        XCTAssertTrue(result["response"]?.stringValue?.contains("408") ?? false)
    }

    func testIdleKeepAliveConnectionIsClosed() throws {
        let (text, closed) = try raw("GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n", readSeconds: 5)
        XCTAssertEqual(statuses(text), [200])
        XCTAssertTrue(closed, "idleTimeoutSeconds is 2: the connection must be closed within the 5 s read")
    }

    // MARK: Framing differentials (issue 11, item 7)

    /// A GET of /v1/whoami with a chunked body whose first size line is `sizeLine`.
    private func chunkedWhoami(_ sizeLine: String, trailer: String = "") throws -> [Int] {
        let request = "GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\n"
            + "\(sizeLine)\\r\\n{}\\r\\n0\\r\\n\(trailer)\\r\\n"
        return statuses(try raw(request).text)
    }

    func testUnterminatedQuotedChunkExtensionIs400() throws {
        XCTAssertEqual(try chunkedWhoami("2;x=\"a"), [400], "the seen input")
        XCTAssertEqual(try chunkedWhoami("2;x=\"a\\\\\""), [400], "the closing quote escaped")
        XCTAssertEqual(try chunkedWhoami("2;=a"), [400])
        XCTAssertEqual(try chunkedWhoami("2;x=a b"), [400])
        XCTAssertEqual(try chunkedWhoami("2;x=\"a;b\""), [200])
        XCTAssertEqual(try chunkedWhoami("2 ; x = y ; z"), [200])
    }

    func testBareCRInATrailerIs400LikeInTheHeaders() throws {
        XCTAssertEqual(try chunkedWhoami("2", trailer: "X-T: a\\rb\\r\\n"), [400])
        XCTAssertEqual(statuses(try raw("GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nX-T: a\\rb\\r\\n\\r\\n").text), [400])
        XCTAssertEqual(try chunkedWhoami("2", trailer: "X-T: ab\\r\\n"), [200])
    }

    func testChunkedTwiceOrNotLastIs400() throws {
        for codings in ["chunked, chunked", "chunked, gzip", "gzip", "chunked\\r\\nTransfer-Encoding: chunked"] {
            let request = "POST /v1/referrals HTTP/1.1\\r\\nHost: l\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: \(codings)\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n"
            let (text, closed) = try raw(request)
            XCTAssertEqual(statuses(text), [400], codings)
            XCTAssertTrue(closed, codings)
        }
    }

    // MARK: Forms a server must accept (issue 13, item 5)

    func testAbsoluteFormTargetIsServed() throws {
        let port = try daemon().apiPort
        let (text, _) = try raw("GET https://localhost:\(port)/v1/whoami HTTP/1.1\\r\\nHost: localhost:\(port)\\r\\nConnection: close\\r\\n\\r\\n")
        XCTAssertEqual(statuses(text), [200])
        XCTAssertTrue(text.contains("\"police\""), text)
        let (other, _) = try raw("GET ftp://localhost/v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n")
        XCTAssertEqual(statuses(other), [400])
        let (withUser, _) = try raw("GET https://someone@localhost/v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n")
        XCTAssertEqual(statuses(withUser), [400])
    }

    func testHTTP10KeepAliveAnswerSaysKeepAlive() throws {
        let one = "GET /v1/whoami HTTP/1.0\\r\\nConnection: keep-alive\\r\\n\\r\\n"
        let two = "GET /v1/whoami HTTP/1.0\\r\\n\\r\\n"
        let (text, closed) = try raw(one + two)
        XCTAssertEqual(statuses(text), [200, 200])
        let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.lowercased() }
        XCTAssertTrue(answers.first?.contains("\r\nconnection: keep-alive\r\n") ?? false, text)
        XCTAssertTrue(answers.last?.contains("\r\nconnection: close\r\n") ?? false, text)
        XCTAssertTrue(closed)
    }

    // MARK: The server's own answers keep the promises (issue 13, item 4)

    /// Each header of `name` in the first response of `text`.
    private func header(_ name: String, in text: String) -> String? {
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// Checks the standard headers of the one answer in `text` and returns its log line.
    private func checkStandardAnswer(_ text: String, status: Int, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        XCTAssertEqual(statuses(text), [status], label, file: file, line: line)
        XCTAssertEqual(header("cache-control", in: text), "no-store", label, file: file, line: line)
        XCTAssertEqual(header("x-content-type-options", in: text), "nosniff", label, file: file, line: line)
        XCTAssertEqual(header("content-type", in: text), "application/problem+json", label, file: file, line: line)
        let id = try XCTUnwrap(header("x-request-id", in: text), label, file: file, line: line)
        XCTAssertEqual(id.count, 16, label, file: file, line: line)
        let refex = try daemon()
        XCTAssertTrue(refex.waitForLog("id=\(id) "), "no log line for \(label)", file: file, line: line)
        return refex.logText.split(separator: "\n").first { $0.contains("id=\(id) ") }.map(String.init) ?? ""
    }

    func testParserAnswersCarryTheStandardHeadersAndAreLoggedAsWhatTheyWere() throws {
        let long = String(repeating: "a", count: 1100)
        let big = String(repeating: "b", count: 2100)
        let cases: [(request: String, status: Int, logged: String)] = [
            ("GET /v1/whoami HTTP/1.1\\r\\n\\r\\n", 400, "partner=police method=GET route=/v1/whoami status=400"),
            ("GET  /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\n\\r\\n", 400, "partner=police method=- route=malformed status=400"),
            ("POST /v1/referrals HTTP/1.1\\r\\nHost: l\\r\\nContent-Type: application/json\\r\\nContent-Length: 5000\\r\\n\\r\\n", 413,
             "partner=police method=POST route=/v1/referrals status=413"),
            ("GET /v1/\(long) HTTP/1.1\\r\\nHost: l\\r\\n\\r\\n", 414, "method=- route=malformed status=414"),
            ("GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nExpect: teapot\\r\\n\\r\\n", 417, "method=GET route=/v1/whoami status=417"),
            ("GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\nX-Big: \(big)\\r\\n\\r\\n", 431, "method=GET route=/v1/whoami status=431"),
            ("POST /v1/consents HTTP/1.1\\r\\nHost: l\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n", 501, "method=POST route=/v1/consents status=501"),
            ("GET /v1/whoami HTTP/2.0\\r\\nHost: l\\r\\n\\r\\n", 505, "method=- route=malformed status=505"),
            ("GET /v1/nothing HTTP/1.1\\r\\nHost: l\\r\\nContent-Length: x\\r\\n\\r\\n", 400, "method=GET route=unmatched status=400"),
            // The body never finishes: 408 after bodyTimeoutSeconds (1).
            ("POST /v1/referrals HTTP/1.1\\r\\nHost: l\\r\\nContent-Type: application/json\\r\\nContent-Length: 10\\r\\n\\r\\n{}", 408,
             "method=POST route=/v1/referrals status=408"),
            // The head never finishes: 408 after headerTimeoutSeconds (1).
            ("GET /v1/whoami HTTP/1.1\\r\\nHost: l\\r\\n", 408, "method=GET route=/v1/whoami status=408"),
            ("GET /v1/who", 408, "method=- route=timeout status=408"),
        ]
        for (request, status, logged) in cases {
            let (text, closed) = try raw(request, readSeconds: status == 408 ? 4 : 3)
            let line = try checkStandardAnswer(text, status: status, "\(status) for \(request.prefix(60))")
            XCTAssertTrue(line.contains(logged), "expected '\(logged)' in: \(line)")
            XCTAssertTrue(line.hasPrefix("<6>"), "a client's mistake is not an error of refex's: \(line)")
            XCTAssertTrue(closed, "\(status): the connection closes after the server's own answer")
        }
    }

    func testConnectionLimitAnswerCarriesTheStandardHeadersAndIsLogged() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxConnections": 2]]))
        let holder = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "police") + ["hold", "--count", "2"])
        defer { holder.terminate() }
        XCTAssertEqual(holder.readLine(), "{\"held\": 2}")
        let (_, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        XCTAssertEqual(response?.status, 503)
        XCTAssertEqual(response?.header("cache-control"), "no-store")
        XCTAssertEqual(response?.header("x-content-type-options"), "nosniff")
        let id = try XCTUnwrap(response?.header("x-request-id"))
        XCTAssertTrue(refex.waitForLog("id=\(id) "))
        let line = refex.logText.split(separator: "\n").first { $0.contains("id=\(id) ") } ?? ""
        XCTAssertTrue(line.contains("route=connection-limit status=503"), String(line))
    }

    // MARK: Problems never echo a value sent; query parameters out of range are 400 (issue 13, item 7)

    func testNotFoundDetailsDoNotRepeatTheID() throws {
        let id = "0190f7a2-52a8-7c1e-9a35-6f2b1d0c4e81"
        for (path, partner, method) in [("/v1/referrals/\(id)", "police", "GET"), ("/v1/mailbox/\(id)", "sink", "GET"),
                                        ("/v1/mailbox/\(id)/ack", "sink", "POST"), ("/v1/consents/\(id)/withdraw", "police", "POST"),
                                        ("/v1/subjects/\(id)/export", "hub-admin", "GET")] {
            let (_, response) = try Curl.request(["-X", method, "\(try daemon().baseURL)\(path)"], as: partner)
            XCTAssertEqual(response?.status, 404, path)
            let body = response?.body ?? ""
            XCTAssertFalse(body.contains(id), "\(path): \(body)")
            XCTAssertFalse(body.contains("0190f7a2"), path)
            XCTAssertTrue(response?.json?["detail"]?.stringValue?.hasPrefix("There is no such ") ?? false, "\(path): \(body)")
        }
        // A path that is not an id at all is not repeated either.
        let (_, odd) = try Curl.request(["\(try daemon().baseURL)/v1/referrals/Jane%20Doe"], as: "police")
        XCTAssertEqual(odd?.status, 404)
        XCTAssertFalse(odd?.body.contains("Jane") ?? true)
    }

    func testMailboxQueryParametersOutOfRangeAre400() throws {
        let base = "\(try daemon().baseURL)/v1/mailbox"
        for query in ["limit=-1", "limit=abc", "limit=0", "limit=501", "limit=", "limit=%2B5", "limit=1e2", "limit=99999999999999999999",
                      "after=not-an-id", "after=", "after=0190F7A2-52A8-7C1E-9A35-6F2B1D0C4E81", "colour=blue", "limit=5&limit=6"] {
            let (_, response) = try Curl.request(["\(base)?\(query)"], as: "sink")
            XCTAssertEqual(response?.status, 400, query)
            XCTAssertEqual(response?.json?["type"]?.stringValue, "urn:refex:problem:bad-query", query)
            for sent in ["abc", "blue", "not-an-id", "99999999999999999999", "0190F7A2"] {
                XCTAssertFalse(response?.json?["detail"]?.stringValue?.contains(sent) ?? false, "\(query) echoed")
            }
        }
        for query in ["", "?limit=1", "?limit=500", "?after=0190f7a2-52a8-7c1e-9a35-6f2b1d0c4e81&limit=10"] {
            let (_, response) = try Curl.request(["\(base)\(query)"], as: "sink")
            XCTAssertEqual(response?.status, 200, query)
        }
        // The log's paging, the same kind of parameter: a sign or a space is not a number.
        let log = "\(try daemon().baseURL)/v1/disclosures"
        for query in ["limit=%2B5", "limit=%205", "after=-1", "after=%2B3", "limit=1001", "after=99999999999999999999"] {
            let (_, response) = try Curl.request(["\(log)?\(query)"], as: "hub-admin")
            XCTAssertEqual(response?.status, 400, query)
        }
        XCTAssertEqual(try Curl.request(["\(log)?limit=5&after=0"], as: "hub-admin").response?.status, 200)
    }
}
