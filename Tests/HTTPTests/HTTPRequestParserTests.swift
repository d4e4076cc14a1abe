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
            ("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
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
            ("POST / HTTP/1.1\r\nHost: a\r\n\r\n", 411, .lengthRequired),
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
}
