import HTTP
import Server

/// What `RecordingMiddleware` reads from a request's context.
package protocol RecordedRequestContext: MiddlewareContext {
    var connection: ConnectionContext { get }
    /// When the request was complete (`MonotonicClock.now()`), for its duration.
    var startedAt: UInt64 { get }
    /// The route for logs and metrics: its pattern (`/v1/referrals/:id`), or `unmatched`; a bounded set.
    var route: String { get }
    /// The partner the client certificate belongs to, nil when it belongs to none (or there is none).
    var partnerID: String? { get }
    /// A probe or scrape whose expected answer is logged at debug (`RequestRecorder.record`'s `routine`).
    var isRoutine: Bool { get }
}

/// One log line and the metrics for every request (`RequestRecorder`), with the status it was
/// answered with. Outermost, so that every refusal by the middleware inside is recorded; an error
/// that reaches it (none should: `ErrorMappingMiddleware` is inside) counts as a 500.
package struct RecordingMiddleware<Context: RecordedRequestContext>: Middleware {
    private let recorder: RequestRecorder

    package init(_ recorder: RequestRecorder) {
        self.recorder = recorder
    }

    package func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
        // Only the method is kept for the record: capturing the request would keep its body alive.
        let method = request.method.rawValue
        let recorder = self.recorder
        return next(request, context).map { result in
            let status = (try? result.get())?.status.code ?? HTTPStatus.internalServerError.code
            recorder.record(
                listener: context.connection.listener, requestID: context.requestID, partner: context.partnerID, method: method,
                route: context.route, status: status, startedAt: context.startedAt, routine: context.isRoutine
            )
            return result
        }
    }
}
