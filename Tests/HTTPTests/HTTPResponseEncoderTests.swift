import XCTest
@testable import HTTP

final class HTTPResponseEncoderTests: XCTestCase {
    func testEncodesHeadersLengthAndClose() {
        let response = HTTPResponse(status: .ok, text: "hi")
        let bytes = HTTPResponseEncoder.encode(response, answering: .get, keepAlive: false, date: "D")
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: D\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    }

    func testHeadKeepsLengthAndDropsBody() {
        let bytes = HTTPResponseEncoder.encode(HTTPResponse(text: "hello"), answering: .head, keepAlive: true, date: "D")
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("Content-Length: 5\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"))
    }

    func testHeaderValuesCannotInjectLines() {
        var response = HTTPResponse()
        response.headers.add("x-a", "a\r\nSet-Cookie: b")
        let text = String(decoding: HTTPResponseEncoder.encode(response, answering: .get, keepAlive: true, date: "D"), as: UTF8.self)
        XCTAssertFalse(text.contains("\r\nSet-Cookie"))
    }

    func testHTTPDate() {
        XCTAssertEqual(httpDate(secondsSince1970: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(httpDate(secondsSince1970: 1_795_910_400), "Sun, 29 Nov 2026 00:00:00 GMT")
        XCTAssertEqual(httpDate(secondsSince1970: 951_782_400 + 3661), "Tue, 29 Feb 2000 01:01:01 GMT")
    }

    func testProblemIsProblemJSON() {
        let response = Problem.methodNotAllowed(allowed: [.get, .head]).response
        XCTAssertEqual(response.status.code, 405)
        XCTAssertEqual(response.headers["content-type"], "application/problem+json")
        XCTAssertEqual(response.headers["allow"], "GET, HEAD")
    }

    func testKeptAliveHTTP10AnswerSaysKeepAlive() {
        let kept = String(decoding: HTTPResponseEncoder.encode(HTTPResponse(text: "hi"), answering: .get, version: .http1_0, keepAlive: true, date: "D"), as: UTF8.self)
        XCTAssertTrue(kept.contains("\r\nConnection: keep-alive\r\n"), kept)
        let closed = String(decoding: HTTPResponseEncoder.encode(HTTPResponse(text: "hi"), answering: .get, version: .http1_0, keepAlive: false, date: "D"), as: UTF8.self)
        XCTAssertTrue(closed.contains("\r\nConnection: close\r\n"), closed)
        XCTAssertFalse(closed.contains("keep-alive"))
        let http11 = String(decoding: HTTPResponseEncoder.encode(HTTPResponse(text: "hi"), answering: .get, keepAlive: true, date: "D"), as: UTF8.self)
        XCTAssertFalse(http11.contains("Connection:"), http11)
    }

    func testStandardHeaders() {
        var response = Problem(HTTPParseError(.bodyTooLarge, "big")).response
        response.setStandardHeaders(requestID: "abc")
        XCTAssertEqual(response.headers["x-request-id"], "abc")
        XCTAssertEqual(response.headers["cache-control"], "no-store")
        XCTAssertEqual(response.headers["x-content-type-options"], "nosniff")
    }
}
