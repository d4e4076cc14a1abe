import HTTP

/// Sets what every answer of a listener carries: the request id (`X-Request-Id`), and headers that
/// keep it out of caches (`Cache-Control: no-store`) and stop content sniffing
/// (`X-Content-Type-Options: nosniff`). Place it outside `ErrorMappingMiddleware`, so that
/// mapped errors carry them too.
package struct SecurityHeadersMiddleware<Context: MiddlewareContext>: Middleware {
    package init() {}

    package func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
        let requestID = context.requestID
        return next(request, context).mapResponse { response in
            var response = response
            response.setStandardHeaders(requestID: requestID)
            return response
        }
    }
}
