import HTTP
import Server

/// What the partner listener's middleware knows about a request: its id and start, the
/// connection, the route it names, and the partner its certificate belongs to (if any). The
/// route's handler gets a `RequestContext`, made from this once the partner is known.
package struct APIRequestContext: RecordedRequestContext {
    package var requestID: String
    package var startedAt: UInt64
    package var connection: ConnectionContext
    /// Nil when the verified certificate belongs to no partner: `PartnerAuthenticationMiddleware`
    /// refuses the request.
    package var partner: Partner?
    /// The router's answer for the request's method and path.
    package var match: Router<RequestHandler<RequestContext>>.Match

    package var partnerID: String? { partner?.id }
    package var isRoutine: Bool { false }

    /// The route's pattern when the path matches one (whatever the method), else `unmatched`.
    package var route: String {
        switch match {
        case .found(_, let pattern, _), .methodNotAllowed(_, let pattern): pattern
        case .notFound: "unmatched"
        }
    }
}

extension RequestContext: MiddlewareContext {}
