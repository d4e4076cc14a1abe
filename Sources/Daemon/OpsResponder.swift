import HTTP
import JSON
import Metrics
import Server

/// The loopback listener: liveness, readiness and Prometheus metrics, no authentication.
package final class OpsResponder: HTTPResponder {
    private let metrics: MetricsRegistry
    private let recorder: RequestRecorder
    /// What stops refex from being ready, empty when ready.
    private let readinessProblems: @Sendable () async -> [String]

    package init(metrics: MetricsRegistry, recorder: RequestRecorder, readinessProblems: @escaping @Sendable () async -> [String]) {
        self.metrics = metrics
        self.recorder = recorder
        self.readinessProblems = readinessProblems
    }

    package func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
        let startedAt = MonotonicClock.now()
        let requestID = makeRequestID()
        var response: HTTPResponse
        let knownPaths: Set<Substring> = ["/healthz", "/readyz", "/metrics"]
        var route = knownPaths.contains(request.path) ? String(request.path) : "unmatched"
        if request.method != .get && request.method != .head {
            response = Problem.methodNotAllowed(allowed: [.get, .head]).response
        } else {
            switch request.path {
            case "/healthz":
                response = HTTPResponse(json: ["status": "ok"])
            case "/readyz":
                let readinessProblems = self.readinessProblems
                let recorder = self.recorder
                let method = request.method.rawValue
                return .later {
                    let problems = await readinessProblems()
                    var response = problems.isEmpty
                        ? HTTPResponse(json: ["status": "ready"])
                        : HTTPResponse(status: .serviceUnavailable, json: ["status": "not-ready", "problems": .array(problems.map { .string($0) })])
                    response.setStandardHeaders(requestID: requestID)
                    recorder.record(
                        listener: connection.listener, requestID: requestID, partner: nil, method: method,
                        route: "/readyz", status: response.status.code, startedAt: startedAt, routine: true
                    )
                    return response
                }
            case "/metrics":
                response = HTTPResponse(text: metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            default:
                route = "unmatched"
                response = Problem.notFound().response
            }
        }
        response.setStandardHeaders(requestID: requestID)
        recorder.record(
            listener: connection.listener, requestID: requestID, partner: nil, method: request.method.rawValue,
            route: route, status: response.status.code, startedAt: startedAt, routine: route != "unmatched"
        )
        return .now(response)
    }

    package func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse {
        var response = Problem(error).response
        response.setStandardHeaders(requestID: makeRequestID())
        return response
    }

    package func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse {
        var response = Problem(.serviceUnavailable, slug: "connection-limit", title: "Too many connections", detail: "Retry shortly.").response
        response.setStandardHeaders(requestID: makeRequestID())
        return response
    }
}
