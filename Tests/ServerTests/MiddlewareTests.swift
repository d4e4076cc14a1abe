import HTTP
import JSON
import Logging
import Synchronization
import XCTest
@testable import Server

/// Each generic middleware alone, and the chain that composes them, without a socket.
final class MiddlewareTests: XCTestCase {
    struct Context: MiddlewareContext {
        var requestID = "0123456789abcdef"
    }

    /// Appends `"<name> in"` on the way in and `"<name> out"` on the way out.
    struct Tracing: Middleware {
        let name: String
        let trace: Trace

        func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
            trace.append("\(name) in")
            let name = self.name
            let trace = self.trace
            return next(request, context).mapResponse { response in
                trace.append("\(name) out")
                return response
            }
        }
    }

    final class Trace: Sendable {
        private let events = Mutex<[String]>([])
        func append(_ event: String) { events.withLock { $0.append(event) } }
        var all: [String] { events.withLock { $0 } }
    }

    struct Secret: Error, CustomStringConvertible {
        var description: String { "Jane Doe born 1990-01-01" }
    }

    struct Unavailable: Error {}

    private let ok: RequestHandler<Context> = { _, _ in .response(HTTPResponse(text: "ok")) }

    private func run<M: Middleware>(
        _ middleware: M, _ request: HTTPRequest = HTTPRequest(method: .get, target: "/x"), context: M.Context,
        handler: @escaping RequestHandler<M.Context>
    ) async throws -> HTTPResponse {
        try await middleware.handle(request, context: context, next: handler).value()
    }

    private func problemType(_ response: HTTPResponse) throws -> String? {
        try JSONValue.parse(response.body)["type"]?.stringValue
    }

    func testChainRunsMiddlewareInTheOrderAddedFirstOutermost() async throws {
        let trace = Trace()
        var chain = MiddlewareChain<Context>()
        chain.add(Tracing(name: "a", trace: trace))
        chain.add(Tracing(name: "b", trace: trace))
        let handler = chain.handler { _, _ in
            trace.append("handler")
            return .later { HTTPResponse(text: "done") }
        }
        let pending = handler(HTTPRequest(method: .get, target: "/"), Context())
        XCTAssertEqual(trace.all, ["a in", "b in", "handler"], "work for later has not run yet")
        let response = try await pending.value()
        XCTAssertEqual(response.body, Array("done".utf8))
        XCTAssertEqual(trace.all, ["a in", "b in", "handler", "b out", "a out"])
    }

    func testAnEmptyChainIsTheHandler() async throws {
        let handler = MiddlewareChain<Context>().handler(around: ok)
        guard case .now(.success(let response)) = handler(HTTPRequest(method: .get, target: "/"), Context()) else {
            return XCTFail("an answer known now stays now")
        }
        XCTAssertEqual(response.body, Array("ok".utf8))
    }

    func testSecurityHeadersAreSetOnAnswersNowAndLater() async throws {
        for handler: RequestHandler<Context> in [ok, { _, _ in .later { HTTPResponse(status: .created) } }] {
            let response = try await run(SecurityHeadersMiddleware(), context: Context(requestID: "feedfacefeedface"), handler: handler)
            XCTAssertEqual(response.headers["x-request-id"], "feedfacefeedface")
            XCTAssertEqual(response.headers["cache-control"], "no-store")
            XCTAssertEqual(response.headers["x-content-type-options"], "nosniff")
        }
    }

    func testErrorMappingAnswersAProblemAsItselfWithItsHeaders() async throws {
        let sink = InMemoryLogSink()
        let middleware = ErrorMappingMiddleware<Context>(logger: Logger(sink: sink))
        for handler: RequestHandler<Context> in [
            { _, _ in .catching { throw Problem.methodNotAllowed(allowed: [.get, .head]) } },
            { _, _ in .later { throw Problem.methodNotAllowed(allowed: [.get, .head]) } },
        ] {
            let response = try await run(middleware, context: Context(), handler: handler)
            XCTAssertEqual(response.status.code, 405)
            XCTAssertEqual(response.headers["allow"], "GET, HEAD")
            XCTAssertEqual(response.headers["content-type"], "application/problem+json")
            XCTAssertEqual(try problemType(response), "urn:refex:problem:method-not-allowed")
        }
        XCTAssertEqual(sink.records.count, 0, "a problem is an answer, not a failure to log")
    }

    func testErrorMappingAsksItsMappingBeforeAnsweringA500() async throws {
        let middleware = ErrorMappingMiddleware<Context>(logger: Logger(sink: InMemoryLogSink())) { error, context in
            error is Unavailable ? HTTPResponse(status: .serviceUnavailable, headers: ["retry-after": "5", "x-for": context.requestID]) : nil
        }
        let response = try await run(middleware, context: Context(requestID: "abc"), handler: { _, _ in .later { throw Unavailable() } })
        XCTAssertEqual(response.status.code, 503)
        XCTAssertEqual(response.headers["retry-after"], "5")
        XCTAssertEqual(response.headers["x-for"], "abc")
    }

    func testErrorMappingLogsAnUnknownErrorByTypeAndAnswers500WithTheRequestIDOnly() async throws {
        let sink = InMemoryLogSink()
        let middleware = ErrorMappingMiddleware<Context>(logger: Logger(sink: sink))
        for handler: RequestHandler<Context> in [{ _, _ in .catching { throw Secret() } }, { _, _ in .later { throw Secret() } }] {
            let response = try await run(middleware, context: Context(requestID: "1111222233334444"), handler: handler)
            XCTAssertEqual(response.status.code, 500)
            XCTAssertEqual(try problemType(response), "urn:refex:problem:internal-error")
            let body = String(decoding: response.body, as: UTF8.self)
            XCTAssertTrue(body.contains("1111222233334444"), body)
            XCTAssertFalse(body.contains("Jane"), "the error's text never reaches the client: \(body)")
        }
        XCTAssertEqual(sink.records.count, 2)
        for record in sink.records {
            XCTAssertEqual(record.level, .error)
            XCTAssertEqual(record.message, "request failed")
            XCTAssertEqual(record.metadata.map(\.key), ["request", "error"])
            XCTAssertEqual(record.metadata.first?.value, "1111222233334444")
            XCTAssertEqual(record.metadata.last?.value, "Secret")
            XCTAssertFalse(record.formatted.contains("Jane"), "no personal data in the operational log: \(record.formatted)")
        }
    }

    func testErrorMappingLeavesAnswersAlone() async throws {
        let middleware = ErrorMappingMiddleware<Context>(logger: Logger(sink: InMemoryLogSink()))
        let response = try await run(middleware, context: Context(), handler: { _, _ in .response(HTTPResponse(status: .notFound)) })
        XCTAssertEqual(response.status.code, 404)
        XCTAssertTrue(response.body.isEmpty)
    }

    func testContentTypeRefusesABodyThatIsNotJSONWith415() async throws {
        func request(_ contentType: String?, body: String) -> HTTPRequest {
            var headers = HTTPHeaders()
            if let contentType { headers.set("content-type", contentType) }
            return HTTPRequest(method: .post, target: "/x", headers: headers, body: Array(body.utf8))
        }
        let middleware = ContentTypeMiddleware<Context>.json
        for (type, body) in [("text/plain", "{}"), (nil, "{}"), ("application/jsonx", "{}"), ("application/xml+json2", "{}"),
                             ("text/json", "{}"), ("multipart/form-data", "{}")] as [(String?, String)] {
            let response = try await run(middleware, request(type, body: body), context: Context(), handler: ok)
            XCTAssertEqual(response.status.code, 415, "\(type ?? "no type")")
            XCTAssertEqual(try problemType(response), "urn:refex:problem:unsupported-media-type")
        }
        for (type, body) in [("application/json", "{}"), ("Application/JSON; charset=utf-8", "{}"), ("application/merge-patch+json", "{}"),
                             ("text/plain", ""), (nil, "")] as [(String?, String)] {
            let response = try await run(middleware, request(type, body: body), context: Context(), handler: ok)
            XCTAssertEqual(response.status.code, 200, "\(type ?? "no type") with \(body.isEmpty ? "no" : "a") body passes")
        }
    }

    func testAllowedMethodsRefusesEveryOtherMethodOnAnyPathWith405AndAllow() async throws {
        let middleware = AllowedMethodsMiddleware<Context>([.get, .head])
        for method in [HTTPMethod.post, .put, .delete, .patch, HTTPMethod("BREW")] {
            let response = try await run(middleware, HTTPRequest(method: method, target: "/anything"), context: Context(), handler: ok)
            XCTAssertEqual(response.status.code, 405, method.rawValue)
            XCTAssertEqual(response.headers["allow"], "GET, HEAD")
            XCTAssertEqual(try problemType(response), "urn:refex:problem:method-not-allowed")
        }
        for method in [HTTPMethod.get, .head] {
            let response = try await run(middleware, HTTPRequest(method: method, target: "/anything"), context: Context(), handler: ok)
            XCTAssertEqual(response.status.code, 200, method.rawValue)
        }
    }

    func testAReplyAnswersAnErrorNoMiddlewareMappedAsItsProblemOrABare500() async throws {
        guard case .now(let problem) = PendingResponse.catching({ throw Problem.notFound() }).reply else { return XCTFail() }
        XCTAssertEqual(problem.status.code, 404)
        guard case .later(let work) = PendingResponse.later({ throw Secret() }).reply else { return XCTFail("later stays later") }
        let response = await work()
        XCTAssertEqual(response.status.code, 500)
        XCTAssertFalse(String(decoding: response.body, as: UTF8.self).contains("Jane"))
    }

    /// A responder that writes only `reply(to:on:)` gets the protocol's answers for the rest.
    func testTheResponderProtocolAnswersWhatNeverBecameARequest() throws {
        struct Minimal: HTTPResponder {
            func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply { .now(HTTPResponse()) }
        }
        let connection = ConnectionContext(id: 1, listener: "test", remoteAddress: nil, peerCertificate: nil, tlsVersion: nil)
        let malformed = Minimal().reply(toMalformed: HTTPParseError(.bodyTooLarge, "Too large."), on: connection)
        XCTAssertEqual(malformed.status.code, 413)
        XCTAssertEqual(try problemType(malformed), "urn:refex:problem:body-too-large")
        let limit = Minimal().replyAtConnectionLimit(on: connection)
        XCTAssertEqual(limit.status.code, 503)
        XCTAssertEqual(limit.headers["retry-after"], "1")
        XCTAssertEqual(try problemType(limit), "urn:refex:problem:connection-limit")
        let plain = Minimal().replyToPlainHTTP(on: connection)
        XCTAssertEqual(plain.status.code, 400)
        XCTAssertEqual(plain.headers["cache-control"], "no-store")
        XCTAssertEqual(try problemType(plain), "urn:refex:problem:https-required")
    }
}
