import Foundation
import HTTP
import Logging
import Server
import Store

/// The partner listener: a `MiddlewareChain` around the router.
///
/// Every request meets, in order: recording (`RecordingMiddleware`: one log line and the
/// metrics), the request id and security headers, error mapping (a thrown `Problem` as itself, a
/// store that cannot commit as 503, anything else as a logged 500), authentication (certificate →
/// partner), then the router (404, or 405 with `Allow`), and for a route the roles it needs
/// (`RoleMiddleware`) and its own middleware (`Endpoint.middleware`: a JSON body, by default).
package final class APIResponder: HTTPResponder {
    private let router: Router<RequestHandler<RequestContext>>
    private let authentication: PartnerAuthenticationMiddleware
    private let handler: RequestHandler<APIRequestContext>
    private let recorder: RequestRecorder

    package init(
        router: Router<Endpoint>, partners: PartnerDirectory, recorder: RequestRecorder, logger: Logger,
        partnerCertificates: PartnerCertificateExpiry? = nil
    ) {
        var routes = Router<RequestHandler<RequestContext>>()
        for route in router.routes {
            routes.add(route.method, route.pattern, Self.routeHandler(for: route.handler, route: route.pattern))
        }
        self.router = routes
        self.recorder = recorder
        let authentication = PartnerAuthenticationMiddleware(partners: partners, logger: logger, partnerCertificates: partnerCertificates)
        self.authentication = authentication

        var chain = MiddlewareChain<APIRequestContext>()
        chain.add(RecordingMiddleware(recorder))
        chain.add(SecurityHeadersMiddleware())
        chain.add(ConsoleHeadersMiddleware())
        chain.add(ErrorMappingMiddleware(logger: logger) { error, context in
            guard let error = error as? StoreError, error.isUnavailable else { return nil }
            return Self.storeUnavailable(error, requestID: context.requestID, logger: logger)
        })
        chain.add(authentication)
        handler = chain.handler { request, context in
            // The console exists only for admins: to anyone else its paths answer as unknown paths do.
            if ConsoleHeadersMiddleware.isConsole(request.path), context.partner?.roles.contains(.admin) != true {
                return .response(Problem.notFound().response)
            }
            switch context.match {
            case .notFound:
                return .response(Problem.notFound().response)
            case .methodNotAllowed(let allowed, _):
                return .response(Problem.methodNotAllowed(allowed: allowed).response)
            case .found(let route, _, let parameters):
                // Authentication let the request through only with a partner; without one, refuse as it would.
                guard let partner = context.partner else {
                    return .response(PartnerAuthenticationMiddleware.unknownCertificate(context.connection).response)
                }
                let handlerContext = RequestContext(
                    request: request, partner: partner, parameters: parameters, requestID: context.requestID,
                    connection: context.connection, logger: logger.with("request", context.requestID)
                )
                return route(request, handlerContext)
            }
        }
    }

    /// An endpoint behind the role check, then its own middleware (a JSON body, by default).
    private static func routeHandler(for endpoint: Endpoint, route: String) -> RequestHandler<RequestContext> {
        let body: RequestHandler<RequestContext>
        switch endpoint.work {
        case .immediate(let work):
            body = { request, context in
                var context = context
                context.request = request
                return .catching { try work(context) }
            }
        case .deferred(let work):
            let priority: StoreWritePriority = essentialRoutes.contains(route) ? .essential : .normal
            body = { request, context in
                var context = context
                context.request = request
                return .later { [context] in try await StoreWritePriority.$current.withValue(priority) { try await work(context) } }
            }
        }
        return MiddlewareChain<RequestContext>([RoleMiddleware(endpoint.roles)]).handler(around: endpoint.middleware.handler(around: body))
    }

    /// The partner a connection's verified chain belongs to, if any (its connection budget).
    package func partnerID(for connection: ConnectionContext) -> String? {
        authentication.partner(for: connection)?.id
    }

    /// Swaps in a reloaded partner list; the next request on any connection uses it.
    package func replacePartners(_ partners: PartnerDirectory) {
        authentication.replacePartners(partners)
    }

    package func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
        let context = APIRequestContext(
            requestID: makeRequestID(), startedAt: MonotonicClock.now(), connection: connection,
            partner: authentication.partner(for: connection), match: router.match(request.method, path: request.path)
        )
        return handler(request, context).reply
    }

    /// Routes whose writes are stored on the disk reserve when nothing else is: the subject's
    /// rights and withdrawals must not wait for space.
    static let essentialRoutes: Set<String> = [
        "/v1/consents/:id/withdraw", "/v1/subjects/:id/withdraw", "/v1/subjects/:id/erase", "/v1/subjects/:id/restrict",
    ]

    /// A write (or a logged read) the store cannot take now: 503 with `Retry-After`, never 500.
    /// Nothing was committed, so the partner sends the same request again later.
    static func storeUnavailable(_ error: StoreError, requestID: String, logger: Logger) -> HTTPResponse {
        // The store logged the cause once (critical); each refusal is in the request log line.
        logger.debug("request refused: the store cannot commit", [("request", requestID), ("reason", error.description)])
        var problem = Problem(
            .serviceUnavailable, slug: "store-unavailable", title: "Cannot store this now",
            detail: error.kind == .corrupt
                ? "refex has stopped acknowledging: its store needs the operator's attention. Nothing was stored; send the request again later."
                : "refex cannot store anything at the moment (its disk or its database is unavailable). Nothing was stored; send the same request again after the time in Retry-After."
        )
        problem.headers.set("retry-after", String(error.retryAfterSeconds))
        return problem.response
    }


    /// The answer to a request that could not be read (or arrived too slowly): logged as the
    /// request it was when its request line was read (method and route), else as `malformed`
    /// or `timeout`.
    package func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse {
        let requestID = makeRequestID()
        var response = Problem(error).response
        response.setStandardHeaders(requestID: requestID)
        let partner = authentication.partner(for: connection)
        var method = "-"
        var route = error.kind == .requestTimeout ? "timeout" : "malformed"
        if let requestMethod = error.method, let target = error.target {
            method = requestMethod.rawValue
            let path = HTTPRequest(method: requestMethod, target: target).path
            route = routeLabel(requestMethod, path)
        }
        recorder.record(
            listener: connection.listener, requestID: requestID, partner: partner?.id, method: method,
            route: route, status: response.status.code, startedAt: MonotonicClock.now()
        )
        return response
    }

    /// The route a request names, for logs and metrics: its pattern when its path matches a route
    /// (whatever the method), else `unmatched` (the label set stays bounded).
    private func routeLabel(_ method: HTTPMethod, _ path: Substring) -> String {
        switch router.match(method, path: path) {
        case .found(_, let pattern, _), .methodNotAllowed(_, let pattern): pattern
        case .notFound: "unmatched"
        }
    }

    package func replyToPlainHTTP(on connection: ConnectionContext) -> HTTPResponse {
        var response = Problem.httpsRequired.response
        response.setStandardHeaders(requestID: makeRequestID())
        return response
    }

    package func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse {
        let requestID = makeRequestID()
        var response = Problem.connectionLimit().response
        response.setStandardHeaders(requestID: requestID)
        recorder.record(
            listener: connection.listener, requestID: requestID, partner: nil, method: "-",
            route: "connection-limit", status: 503, startedAt: MonotonicClock.now()
        )
        return response
    }
}
