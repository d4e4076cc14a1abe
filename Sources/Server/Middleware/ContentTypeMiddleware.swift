import HTTP

/// Refuses a request whose body is not of a media type the routes behind it read: 415 with
/// `refusal`. A request without a body passes whatever its `Content-Type`.
package struct ContentTypeMiddleware<Context: Sendable>: Middleware {
    private let accepts: @Sendable (HTTPRequest) -> Bool
    private let refusal: Problem

    package init(accepts: @escaping @Sendable (HTTPRequest) -> Bool, refusal: Problem) {
        self.accepts = accepts
        self.refusal = refusal
    }

    /// `application/json` or any `application/…+json` body (`HTTPRequest.hasJSONBody`).
    package static var json: ContentTypeMiddleware<Context> {
        ContentTypeMiddleware(accepts: { $0.hasJSONBody }, refusal: .unsupportedMediaType())
    }

    package func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
        guard request.body.isEmpty || accepts(request) else { return .response(refusal.response) }
        return next(request, context)
    }
}
