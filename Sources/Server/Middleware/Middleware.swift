import HTTP

/// The rest of a chain as a middleware sees it: the next middleware, or the route at the end.
package typealias RequestHandler<Context> = @Sendable (HTTPRequest, Context) -> PendingResponse

/// One step around a route: looks at the request and its context and answers at once (a
/// refusal), or calls `next` and may change what comes back (headers, a record, errors mapped).
///
/// Modelled on Hummingbird's `MiddlewareProtocol`, but synchronous at its surface so that an
/// answer known on the event loop (a refusal, a lookup) never becomes a task: `PendingResponse`
/// carries work for later instead.
///
/// ```swift
/// func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
///     guard allowed(request) else { return .response(Problem.notFound().response) }
///     return next(request, context).mapResponse { response in ... }
/// }
/// ```
package protocol Middleware<Context>: Sendable {
    associatedtype Context: Sendable
    func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse
}

/// What the generic middleware reads from a request's context.
package protocol MiddlewareContext: Sendable {
    /// The request's id: in its `X-Request-Id` header, its log lines and a 500's detail.
    var requestID: String { get }
}

/// Middleware in the order a request meets it, built once around a handler.
package struct MiddlewareChain<Context: Sendable>: Sendable {
    private var middleware: [any Middleware<Context>]

    package init(_ middleware: [any Middleware<Context>] = []) {
        self.middleware = middleware
    }

    /// Adds `next` inside everything added before it.
    package mutating func add(_ next: some Middleware<Context>) {
        middleware.append(next)
    }

    /// `handler` behind every middleware, the first added outermost. Build it once (at start-up)
    /// and call it per request.
    package func handler(around handler: @escaping RequestHandler<Context>) -> RequestHandler<Context> {
        middleware.reversed().reduce(handler) { next, step in
            { request, context in step.handle(request, context: context, next: next) }
        }
    }
}
