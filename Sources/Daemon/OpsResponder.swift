import HTTP
import JSON
import Metrics
import Server

/// The loopback listener: liveness, readiness and Prometheus metrics, no authentication.
///
/// A `MiddlewareChain` around a router: recording (probes and scrapes that answer as expected are
/// logged at debug), the request id and security headers, error mapping, then GET and HEAD only
/// (405 on any path for another method), then `/healthz`, `/readyz` and `/metrics`.
package final class OpsResponder: HTTPResponder {
    private let router: Router<RequestHandler<OpsRequestContext>>
    private let handler: RequestHandler<OpsRequestContext>

    /// `readinessProblems`: what stops refex from being ready, empty when ready.
    package init(metrics: MetricsRegistry, recorder: RequestRecorder, readinessProblems: @escaping @Sendable () async -> [String]) {
        var router = Router<RequestHandler<OpsRequestContext>>()
        router.add(.get, "/healthz") { _, _ in .response(HTTPResponse(json: ["status": "ok"])) }
        router.add(.get, "/readyz") { _, _ in
            .later {
                let problems = await readinessProblems()
                return problems.isEmpty
                    ? HTTPResponse(json: ["status": "ready"])
                    : HTTPResponse(status: .serviceUnavailable, json: ["status": "not-ready", "problems": .array(problems.map { .string($0) })])
            }
        }
        router.add(.get, "/metrics") { _, _ in
            .response(HTTPResponse(text: metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }
        self.router = router

        var chain = MiddlewareChain<OpsRequestContext>()
        chain.add(RecordingMiddleware(recorder))
        chain.add(SecurityHeadersMiddleware())
        chain.add(ErrorMappingMiddleware(logger: recorder.logger))
        chain.add(AllowedMethodsMiddleware([.get, .head]))
        handler = chain.handler { request, context in
            switch context.match {
            case .found(let route, _, _): route(request, context)
            case .methodNotAllowed(let allowed, _): .response(Problem.methodNotAllowed(allowed: allowed).response)
            case .notFound: .response(Problem.notFound().response)
            }
        }
    }

    package func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
        let context = OpsRequestContext(
            requestID: makeRequestID(), startedAt: MonotonicClock.now(), connection: connection,
            match: router.match(request.method, path: request.path)
        )
        return handler(request, context).reply
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

/// What the ops listener's middleware knows about a request.
package struct OpsRequestContext: RecordedRequestContext {
    package var requestID: String
    package var startedAt: UInt64
    package var connection: ConnectionContext
    package var match: Router<RequestHandler<OpsRequestContext>>.Match

    /// `/healthz`, `/readyz` or `/metrics`, or `unmatched`.
    package var route: String {
        switch match {
        case .found(_, let pattern, _), .methodNotAllowed(_, let pattern): pattern
        case .notFound: "unmatched"
        }
    }

    package var partnerID: String? { nil }
    /// Every known path is a probe or a scrape.
    package var isRoutine: Bool { route != "unmatched" }
}
