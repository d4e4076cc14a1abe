import HTTP

/// Refuses every method but `allowed` on any path, before routing: 405 with `Allow`. For a
/// listener whose every path takes the same methods (the ops listener, the sample recipient),
/// so that an unknown path with a wrong method is a 405 as well.
package struct AllowedMethodsMiddleware<Context: Sendable>: Middleware {
    private let allowed: [HTTPMethod]

    package init(_ allowed: [HTTPMethod]) {
        self.allowed = allowed
    }

    package func handle(_ request: HTTPRequest, context: Context, next: @escaping RequestHandler<Context>) -> PendingResponse {
        guard allowed.contains(request.method) else { return .response(Problem.methodNotAllowed(allowed: allowed).response) }
        return next(request, context)
    }
}
