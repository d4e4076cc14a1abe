import HTTP

/// What a middleware or a route answers: a response, or the error that stopped one, known now
/// (answered on the event loop), or work that produces one off the loop.
///
/// The middleware form of `Reply`: it may carry an error, for `ErrorMappingMiddleware` to turn
/// into a problem, and its outcome can be transformed (`map`) whether it is known now or later.
package enum PendingResponse: Sendable {
    /// Known now: only for work that cannot block (lookups, small renders).
    case now(Result<HTTPResponse, any Error>)
    /// Run as a task; the connection waits for it without blocking its loop.
    case later(@Sendable () async throws -> HTTPResponse)

    /// `response`, now.
    package static func response(_ response: HTTPResponse) -> PendingResponse { .now(.success(response)) }

    /// What `body` returns or throws, now.
    package static func catching(_ body: () throws -> HTTPResponse) -> PendingResponse {
        do {
            return .now(.success(try body()))
        } catch {
            return .now(.failure(error))
        }
    }

    /// The outcome passed through `transform` once it is known: at once for one known now, after
    /// the work for one known later.
    package func map(
        _ transform: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Result<HTTPResponse, any Error>
    ) -> PendingResponse {
        switch self {
        case .now(let result):
            return .now(transform(result))
        case .later(let work):
            return .later {
                let result: Result<HTTPResponse, any Error>
                do {
                    result = .success(try await work())
                } catch {
                    result = .failure(error)
                }
                return try transform(result).get()
            }
        }
    }

    /// The response passed through `transform` once it is known; an error passes untouched.
    package func mapResponse(_ transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) -> PendingResponse {
        map { $0.map(transform) }
    }

    /// The response, waiting for it if it comes later.
    package func value() async throws -> HTTPResponse {
        switch self {
        case .now(let result): return try result.get()
        case .later(let work): return try await work()
        }
    }

    /// As the server takes it. A chain ends in `ErrorMappingMiddleware`, so no error should get
    /// here; one that does is answered as its problem if it is one, else as a bare 500 that
    /// reveals nothing.
    package var reply: Reply {
        switch self {
        case .now(.success(let response)):
            return .now(response)
        case .now(.failure(let error)):
            return .now(Self.unmapped(error))
        case .later(let work):
            return .later {
                do {
                    return try await work()
                } catch {
                    return Self.unmapped(error)
                }
            }
        }
    }

    private static func unmapped(_ error: any Error) -> HTTPResponse {
        if let problem = error as? Problem { return problem.response }
        return Problem(.internalServerError, slug: "internal-error", title: "Internal error", detail: "The request could not be completed.")
            .response
    }
}
