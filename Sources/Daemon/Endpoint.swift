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

/// A route's handler and the roles it needs.
package struct Endpoint: Sendable {
    /// The partner must hold at least one of these; empty means any partner.
    package var roles: Set<Role>
    package var work: Work

    package enum Work: Sendable {
        /// Runs on the event loop: lookups and small renders only, never I/O that can block.
        case immediate(@Sendable (RequestContext) throws -> HTTPResponse)
        /// Runs as a task off the event loop.
        case deferred(@Sendable (RequestContext) async throws -> HTTPResponse)
    }

    package static func immediate(roles: Set<Role> = [], _ body: @escaping @Sendable (RequestContext) throws -> HTTPResponse) -> Endpoint {
        Endpoint(roles: roles, work: .immediate(body))
    }

    package static func deferred(roles: Set<Role> = [], _ body: @escaping @Sendable (RequestContext) async throws -> HTTPResponse) -> Endpoint {
        Endpoint(roles: roles, work: .deferred(body))
    }
}
