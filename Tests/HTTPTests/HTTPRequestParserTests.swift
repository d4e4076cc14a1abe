import XCTest
@testable import HTTP

final class HTTPRequestParserTests: XCTestCase {
    private func parse(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPParserEvent] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(contentsOf: Array(text.utf8))
        return drain(&parser)
    }

    private func drain(_ parser: inout HTTPRequestParser) -> [HTTPParserEvent] {
        var events: [HTTPParserEvent] = []
        while true {
            let event = parser.next()
            events.append(event)
            switch event {
            case .needMoreData, .failure: return events
            default: continue
            }
        }
    }

    private func requests(_ events: [HTTPParserEvent]) -> [HTTPRequest] {
        events.compactMap { if case .request(let r) = $0 { return r } else { return nil } }
    }

    private func failure(_ events: [HTTPParserEvent]) -> HTTPParseError? {
        for case .failure(let error) in events { return error }
        return nil
    }

    func testParsesSimpleGet() {
        let events = parse("GET /v1/whoami?x=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        let request = requests(events)
        XCTAssertEqual(request.count, 1)
        XCTAssertEqual(request[0].method, .get)
        XCTAssertEqual(request[0].target, "/v1/whoami?x=1")
        XCTAssertEqual(request[0].path, "/v1/whoami")
        XCTAssertEqual(request[0].query, "x=1")
        XCTAssertEqual(request[0].headers["HOST"], "localhost")
        XCTAssertTrue(request[0].keepAlive)
        XCTAssertTrue(request[0].body.isEmpty)
    }

    func testParsesContentLengthBodyDeliveredByteByByte() {
        let text = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        var parser = HTTPRequestParser()
        var got: [HTTPRequest] = []
        for byte in text.utf8 {
            parser.append(contentsOf: [byte])
            for event in drain(&parser) {
                if case .request(let r) = event { got.append(r) }
                if case .failure(let e) = event { XCTFail("\(e)") }
            }
        }
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first.map { String(decoding: $0.body, as: UTF8.self) }, "{\"a\":1}")
        XCTAssertEqual(parser.phase, .idle)
    }

    func testParsesChunkedBodyWithExtensionsAndTrailers() {
        let text = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n"
        let got = requests(parse(text))
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(String(decoding: got[0].body, as: UTF8.self), "abcde")
    }

    func testManyChunksInOneReadNeitherRecurseNorCopy() {
        // 16,000 one-byte chunks in one append: the framing (80,000 bytes) is within the allowance.
        var text = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        text += String(repeating: "1\r\nz\r\n", count: 16_000) + "0\r\n\r\n"
        let got = requests(parse(text, limits: HTTPParserLimits(maxBodyBytes: 1 << 20)))
        XCTAssertEqual(got.first?.body.count, 16_000)

        // 300,000 of them, on a thread with a 256 KiB stack: refused for their framing, no stack overflow.
        var flood = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        flood += String(repeating: "1\r\nz\r\n", count: 300_000)
        let bytes = Array(flood.utf8)
        let done = expectation(description: "parsed")
        nonisolated(unsafe) var verdict: HTTPParseError?
        let thread = Thread {
            var parser = HTTPRequestParser(limits: HTTPParserLimits(maxBodyBytes: 1 << 20))
            parser.append(contentsOf: bytes)
            if case .failure(let error) = parser.next() { verdict = error }
            done.fulfill()
        }
        thread.stackSize = 256 * 1024
        thread.start()
        wait(for: [done], timeout: 30)
        XCTAssertEqual(verdict?.kind, .malformedChunk)
    }

    func testPipelinedRequestsComeOutInOrder() {
        let text = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: a\r\n\r\n"
        XCTAssertEqual(requests(parse(text)).map(\.target), ["/a", "/b", "/c"])
    }

    func testConnectionCloseAndHTTP10KeepAlive() {
        XCTAssertFalse(requests(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))[0].keepAlive)
        XCTAssertFalse(requests(parse("GET / HTTP/1.0\r\n\r\n"))[0].keepAlive)
        XCTAssertTrue(requests(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))[0].keepAlive)
    }

    func testExpectContinueIsOfferedOnceBeforeTheBody() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: Array("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n".utf8))
        guard case .expectContinue = parser.next() else { return XCTFail("expected 100-continue") }
        guard case .needMoreData = parser.next() else { return XCTFail("expected needMoreData") }
        parser.append(contentsOf: Array("ok".utf8))
        guard case .request(let request) = parser.next() else { return XCTFail("expected request") }
        XCTAssertEqual(request.body, Array("ok".utf8))
    }

    func testUnknownExpectationIs417() {
        XCTAssertEqual(failure(parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: magic\r\n\r\nhi"))?.status.code, 417)
    }

    func testStatusForEachMalformedRequest() {
        let cases: [(String, Int, HTTPParseError.Kind)] = [
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .malformedRequestLine),
            ("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400, .malformedRequestLine),
            ("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .malformedRequestLine),
            ("GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400, .malformedRequestLine),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, .unsupportedVersion),
            ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, .unsupportedVersion),
            ("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("GET https://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("GET https:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("GET https:/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("GET a:b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
            ("GET / HTTP/1.1\r\n\r\n", 400, .missingHost),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, .missingHost),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, .malformedHeader),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", 400, .malformedHeader),
            ("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, .malformedHeader),
            ("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400, .malformedHeader),
            ("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, .malformedRequestLine),
            ("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400, .malformedHeader),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n", 400, .malformedHeader),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400, .conflictingFraming),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400, .invalidContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, .invalidContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400, .invalidContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, .unsupportedTransferCoding),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, .conflictingFraming),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, .malformedChunk),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400, .malformedChunk),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2 x\r\nab\r\n", 400, .malformedChunk),
        ]
        for (text, status, kind) in cases {
            let error = failure(parse(text))
            XCTAssertEqual(error?.status.code, status, text.debugDescription)
            XCTAssertEqual(error?.kind, kind, text.debugDescription)
        }
    }

    func testIdenticalRepeatedContentLengthIsAccepted() {
        XCTAssertEqual(requests(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nhi")).count, 1)
    }

    func testTargetLimitIs414BeforeTheLineEnds() {
        let limits = HTTPParserLimits(maxTargetBytes: 100)
        XCTAssertEqual(failure(parse("GET /" + String(repeating: "a", count: 300), limits: limits))?.status.code, 414)
        XCTAssertEqual(failure(parse("GET /" + String(repeating: "a", count: 120) + " HTTP/1.1\r\n", limits: limits))?.status.code, 414)
        XCTAssertEqual(requests(parse("GET /" + String(repeating: "a", count: 99) + " HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits)).count, 1)
    }

    func testHeaderLimitIs431EvenWithoutTheBlankLine() {
        let limits = HTTPParserLimits(maxHeaderBytes: 1024)
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 2000)
        XCTAssertEqual(failure(parse(big, limits: limits))?.status.code, 431)
        let complete = big + "\r\n\r\n"
        XCTAssertEqual(failure(parse(complete, limits: limits))?.status.code, 431)
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + (0..<20).map { "X\($0): 1\r\n" }.joined() + "\r\n"
        XCTAssertEqual(failure(parse(many, limits: HTTPParserLimits(maxHeaderCount: 10)))?.status.code, 431)
    }

    func testBodyLimitIs413ForContentLengthAndChunked() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        XCTAssertEqual(failure(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: limits))?.status.code, 413)
        XCTAssertEqual(failure(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", limits: limits))?.status.code, 413)
        XCTAssertEqual(failure(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n", limits: limits))?.status.code, 413)
        XCTAssertEqual(failure(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", limits: limits))?.status.code, 413)
        XCTAssertEqual(requests(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits)).count, 1)
    }

    func testTrailerSectionIsBounded() {
        let limits = HTTPParserLimits(maxHeaderBytes: 100)
        let text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + String(repeating: "a", count: 200)
        XCTAssertEqual(failure(parse(text, limits: limits))?.status.code, 431)
    }

    func testFailureIsSticky() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: Array("BAD\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .failure = parser.next() else { return XCTFail() }
        guard case .failure = parser.next() else { return XCTFail("a failed parser must stay failed") }
    }

    func testPhaseTracksHeadAndBody() {
        var parser = HTTPRequestParser()
        XCTAssertEqual(parser.phase, .idle)
        parser.append(contentsOf: Array("POST / HTTP/1.1\r\nHo".utf8))
        _ = parser.next()
        XCTAssertEqual(parser.phase, .head)
        parser.append(contentsOf: Array("st: a\r\nContent-Length: 4\r\n\r\nab".utf8))
        _ = parser.next()
        XCTAssertEqual(parser.phase, .body)
        parser.append(contentsOf: Array("cd".utf8))
        guard case .request = parser.next() else { return XCTFail() }
        XCTAssertEqual(parser.phase, .idle)
    }

    func testLeadingEmptyLinesAreIgnored() {
        XCTAssertEqual(requests(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")).count, 1)
    }

    func testHeaderValueWhitespaceIsTrimmedAndObsTextKept() {
        let request = requests(parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t value with space \t\r\n\r\n"))[0]
        XCTAssertEqual(request.headers["x-a"], "value with space")
    }

    // MARK: Issue 13 and 11: framing differentials and forms a server must accept

    func testRequestWithNeitherLengthNorChunkedHasAnEmptyBody() {
        for method in ["POST", "PUT", "PATCH", "DELETE", "GET"] {
            let got = requests(parse("\(method) /v1/mailbox/x/ack HTTP/1.1\r\nHost: a\r\n\r\n"))
            XCTAssertEqual(got.count, 1, method)
            XCTAssertEqual(got.first?.body, [], method)
        }
        // Pipelined after it, the next request is read as its own.
        let two = requests(parse("POST /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"))
        XCTAssertEqual(two.map(\.target), ["/a", "/b"])
    }

    func testAbsoluteFormTargetIsAcceptedAsItsPathAndQuery() {
        let cases: [(String, String)] = [
            ("https://localhost:8443/v1/whoami", "/v1/whoami"),
            ("http://localhost/v1/whoami", "/v1/whoami"),
            ("HTTPS://LOCALHOST/v1/whoami", "/v1/whoami"),
            ("https://127.0.0.1:8443/v1/disclosures?limit=5", "/v1/disclosures?limit=5"),
            ("https://[::1]:8443/v1/whoami", "/v1/whoami"),
            ("https://localhost", "/"),
            ("https://localhost?x=1", "/?x=1"),
        ]
        for (target, origin) in cases {
            let got = requests(parse("GET \(target) HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            XCTAssertEqual(got.first?.target, origin, target)
        }
    }

    func testTransferCodingsOtherThanOneFinalChunkedAre400Or501() {
        let cases: [(String, Int)] = [
            ("chunked, chunked", 400),
            ("chunked,chunked", 400),
            ("chunked, gzip", 400),
            ("gzip", 400),
            ("identity", 400),
            ("chunked, identity", 400),
            ("", 400),
            ("gzip, chunked", 501),
            ("gzip, gzip, chunked", 501),
            ("chunked, gzip, chunked", 400),
        ]
        for (codings, status) in cases {
            let error = failure(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(codings)\r\n\r\n0\r\n\r\n"))
            XCTAssertEqual(error?.status.code, status, codings)
        }
        // Two fields that together say chunked twice.
        let split = failure(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
        XCTAssertEqual(split?.status.code, 400)
        XCTAssertEqual(requests(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")).count, 1)
    }

    func testChunkExtensionsAreParsedToTheirGrammar() {
        func chunked(_ sizeLine: String) -> [HTTPParserEvent] {
            parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(sizeLine)\r\n{}\r\n0\r\n\r\n")
        }
        for accepted in ["2", "2;x", "2;x=y", "2 ; x = y", "2;x=\"a\"", "2;x=\"a;b=c\"", "2;x=\"a\\\"b\"", "2;a=1;b;c=\"\"", "2\t;x"] {
            XCTAssertEqual(requests(chunked(accepted)).first?.body, Array("{}".utf8), accepted)
        }
        // The seen input: the quoted string never ends, so the line must not be taken as a size.
        let seen = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;x=\"a\r\n{}\r\n0\r\n\r\n")
        XCTAssertEqual(failure(seen)?.status.code, 400)
        XCTAssertEqual(failure(seen)?.kind, .malformedChunk)
        for refused in ["2;x=\"a", "2;x=\"a\\\"", "2;", "2;=y", "2;x=", "2;x=\"a\"b", "2;x y", "2;x=a b", "2;x=\"\u{01}\"", "2;x=\"a\\\u{7F}\"", "2 x", "2;x,y"] {
            XCTAssertEqual(failure(chunked(refused))?.status.code, 400, refused)
        }
    }

    func testBareCRInATrailerLineIsRefusedLikeInTheHeaderSection() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
        for trailer in ["X: a\rb\r\n\r\n", "X: a\r\rb\r\n\r\n", "X\r: a\r\n\r\n", "X: a\r \r\n\r\n"] {
            let error = failure(parse(head + trailer))
            XCTAssertEqual(error?.status.code, 400, trailer.debugDescription)
            XCTAssertEqual(error?.kind, .malformedHeader, trailer.debugDescription)
        }
        XCTAssertEqual(requests(parse(head + "X: a\r\nY: b\r\n\r\n")).count, 1)
        // Byte by byte, the same verdict.
        var parser = HTTPRequestParser()
        var failed = false
        for byte in (head + "X: a\rb\r\n\r\n").utf8 {
            parser.append(contentsOf: [byte])
            if case .failure = drain(&parser).last { failed = true }
        }
        XCTAssertTrue(failed)
    }

    func testFailuresAfterTheRequestLineSayWhatTheRequestWas() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        let tooLarge = failure(parse("POST /v1/referrals HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: limits))
        XCTAssertEqual(tooLarge?.method, .post)
        XCTAssertEqual(tooLarge?.target, "/v1/referrals")
        let badChunk = failure(parse("POST /v1/consents HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
        XCTAssertEqual(badChunk?.target, "/v1/consents")
        let noHost = failure(parse("GET /v1/whoami HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(noHost?.target, "/v1/whoami")
        let badLine = failure(parse("GET /v1/whoami HTTP/9.9\r\nHost: a\r\n\r\n"))
        XCTAssertNil(badLine?.method)
        XCTAssertNil(badLine?.target)
    }

    func testTimeoutFailsTheParserWithWhatWasKnown() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: Array("POST /v1/referrals HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab".utf8))
        _ = drain(&parser)
        let error = parser.timedOut("too slow")
        XCTAssertEqual(error.status.code, 408)
        XCTAssertEqual(error.method, .post)
        XCTAssertEqual(error.target, "/v1/referrals")
        guard case .failure = parser.next() else { return XCTFail("a timed-out parser stays failed") }

        var early = HTTPRequestParser()
        early.append(contentsOf: Array("GET /v1/who".utf8))
        _ = drain(&early)
        XCTAssertNil(early.timedOut("too slow").method)
    }

    /// The verdict on the new framing checks is the same however the bytes are split.
    func testFramingVerdictsDoNotDependOnHowTheBytesArrive() {
        let head = "POST /v1/referrals HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let inputs = [
            head + "2;x=\"a\r\n{}\r\n0\r\n\r\n",
            head + "2;x=\"a;b\"\r\n{}\r\n0\r\n\r\n",
            head + "2\r\n{}\r\n0\r\nX: a\rb\r\n\r\n",
            head + "2\r\n{}\r\n0\r\nX: ab\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
            "GET https://a:1/v1/whoami?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
            "POST /v1/mailbox/x/ack HTTP/1.1\r\nHost: a\r\n\r\n",
        ]
        func verdict(_ pieces: [[UInt8]]) -> String {
            var parser = HTTPRequestParser()
            var seen: [String] = []
            for piece in pieces {
                parser.append(contentsOf: piece)
                for event in drain(&parser) {
                    switch event {
                    case .request(let request): seen.append("request \(request.target) \(request.body.count)")
                    case .failure(let error): return seen.joined(separator: ",") + " failure \(error.kind.rawValue)"
                    default: break
                    }
                }
            }
            return seen.joined(separator: ",")
        }
        for input in inputs {
            let bytes = Array(input.utf8)
            let whole = verdict([bytes])
            for cut in 1..<bytes.count {
                XCTAssertEqual(verdict([Array(bytes[..<cut]), Array(bytes[cut...])]), whole, "\(input.debugDescription) cut at \(cut)")
            }
            XCTAssertEqual(verdict(bytes.map { [$0] }), whole, input.debugDescription)
        }
    }
}
