import Daemon
import HTTP
import JSON
import Logging
import Metrics
import Server
import XCTest

/// The loopback listener through its responder, without a socket.
final class OpsResponderTests: XCTestCase {
    private func responder(ready: Bool = true) -> (OpsResponder, InMemoryLogSink) {
        let log = InMemoryLogSink()
        let metrics = MetricsRegistry()
        let responder = OpsResponder(metrics: metrics, recorder: RequestRecorder(logger: Logger(sink: log, level: .debug), metrics: metrics)) {
            ready ? [] : ["the store is not accepting writes"]
        }
        return (responder, log)
    }

    private func send(_ responder: OpsResponder, _ method: HTTPMethod, _ target: String) async -> HTTPResponse {
        let connection = ConnectionContext(id: 1, listener: "ops", remoteAddress: nil, peerCertificate: nil, tlsVersion: nil)
        switch responder.reply(to: HTTPRequest(method: method, target: target), on: connection) {
        case .now(let response): return response
        case .later(let work): return await work()
        }
    }

    private func recorded(_ log: InMemoryLogSink) -> [(level: Logger.Level, route: String, status: String)] {
        log.records.filter { $0.message == "request" }.map { record in
            let fields = Dictionary(record.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            return (record.level, fields["route"] ?? "", fields["status"] ?? "")
        }
    }

    func testProbesAnswerAndAreLoggedAtDebug() async throws {
        let (responder, log) = responder()
        for (method, target) in [(HTTPMethod.get, "/healthz"), (.head, "/healthz"), (.get, "/readyz"), (.get, "/metrics?x=1")] {
            let response = await send(responder, method, target)
            XCTAssertEqual(response.status.code, 200, target)
            XCTAssertEqual(response.headers["x-request-id"]?.utf8.count, 16)
            XCTAssertEqual(response.headers["cache-control"], "no-store")
        }
        XCTAssertEqual(recorded(log).map(\.route), ["/healthz", "/healthz", "/readyz", "/metrics"])
        XCTAssertEqual(recorded(log).map(\.level), [.debug, .debug, .debug, .debug])
    }

    func testNotReadyIs503LoggedAsAnError() async throws {
        let (responder, log) = responder(ready: false)
        let response = await send(responder, .get, "/readyz")
        XCTAssertEqual(response.status.code, 503)
        XCTAssertEqual(try JSONValue.parse(response.body)["problems"]?.arrayValue?.count, 1)
        XCTAssertEqual(recorded(log).map(\.level), [.error], "not ready is not routine")
    }

    func testAnotherMethodIs405OnAnyPathAndAnUnknownPath404Unmatched() async throws {
        let (responder, log) = responder()
        for (method, target, status, _) in [
            (HTTPMethod.post, "/healthz", 405, "/healthz"), (.delete, "/nothing", 405, "unmatched"), (.get, "/nothing", 404, "unmatched"),
            (.get, "/healthz/", 404, "unmatched"),
        ] {
            let response = await send(responder, method, target)
            XCTAssertEqual(response.status.code, status, "\(method) \(target)")
            if status == 405 { XCTAssertEqual(response.headers["allow"], "GET, HEAD") }
            XCTAssertEqual(response.headers["content-type"], "application/problem+json")
        }
        XCTAssertEqual(recorded(log).map(\.route), ["/healthz", "unmatched", "unmatched", "unmatched"])
        XCTAssertEqual(recorded(log).map(\.level), [.info, .info, .info, .info])
    }
}
