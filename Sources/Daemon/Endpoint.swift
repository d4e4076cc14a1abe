import HTTP
import Logging
import Server

/// What a handler gets: the request, the authenticated partner, path parameters, and a logger
/// that carries the request id.
package struct RequestContext: Sendable {
    package var request: HTTPRequest
    package var partner: Partner
    package var parameters: [String: String]
    package var requestID: String
    package var connection: ConnectionContext
    package var logger: Logger
}

/// A route's handler, the roles it needs, and its own middleware.
package struct Endpoint: Sendable {
    /// The partner must hold at least one of these; empty means any partner.
    package var roles: Set<Role>
    /// Middleware of this route alone, run after the role check (`APIResponder`): by default a
    /// JSON body (`ContentTypeMiddleware.json`, 415 otherwise). Routes that take other bodies
    /// bring their own chain (the console: a same-origin check, a CSRF token, a CSP header).
    package var middleware: MiddlewareChain<RequestContext> = Endpoint.jsonBody
    package var work: Work

    /// The partner API's route middleware: a body must be JSON.
    package static var jsonBody: MiddlewareChain<RequestContext> { MiddlewareChain([ContentTypeMiddleware<RequestContext>.json]) }

    package enum Work: Sendable {
        /// Runs on the event loop: lookups and small renders only, never I/O that can block.
        case immediate(@Sendable (RequestContext) throws -> HTTPResponse)
        /// Runs as a task off the event loop.
        case deferred(@Sendable (RequestContext) async throws -> HTTPResponse)
    }

    package static func immediate(
        roles: Set<Role> = [], middleware: MiddlewareChain<RequestContext> = jsonBody,
        _ body: @escaping @Sendable (RequestContext) throws -> HTTPResponse
    ) -> Endpoint {
        Endpoint(roles: roles, middleware: middleware, work: .immediate(body))
    }

    package static func deferred(
        roles: Set<Role> = [], middleware: MiddlewareChain<RequestContext> = jsonBody,
        _ body: @escaping @Sendable (RequestContext) async throws -> HTTPResponse
    ) -> Endpoint {
        Endpoint(roles: roles, middleware: middleware, work: .deferred(body))
    }
}
