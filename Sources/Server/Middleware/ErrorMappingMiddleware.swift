import HTTP
import Logging

/// Turns what a route throws into an answer (Hummingbird's `HTTPResponseError` rule): a `Problem`
/// is answered as itself; an error `mapping` knows (e.g. a store that cannot take writes) as it
/// says; anything else is logged (its type and the request id, never its text, which may hold
/// personal data) and answered as a 500 that reveals nothing but the request id to quote.
package struct ErrorMappingMiddleware<Context: MiddlewareContext>: Middleware {
    private let logger: Logger
    private let mapping: @Sendable (any Error, Context) -> HTTPResponse?

    package init(logger: Logger, mapping: @escaping @Sendable (any Error, Context) -> HTTPResponse? = { _, _ in nil }) {
        self.logger = logger
        self.mapping = mapping
    }

    package func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
        next(request, context).map { [self] result in
            guard case .failure(let error) = result else { return result }
            return .success(response(to: error, context: context))
        }
    }

    /// The answer to `error` thrown while answering the request of `context`.
    package func response(to error: any Error, context: Context) -> HTTPResponse {
        if let problem = error as? Problem { return problem.response }
        if let response = mapping(error, context) { return response }
        logger.error("request failed", [("request", context.requestID), ("error", String(describing: type(of: error)))])
        return Problem.internalError(requestID: context.requestID).response
    }
}
