import HTTP
import TLS

/// What the server knows about a connection, handed to the responder with each request.
package struct ConnectionContext: Sendable {
    /// Unique within the process.
    package var id: UInt64
    /// The listener's name, e.g. `api` or `ops`.
    package var listener: String
    package var remoteAddress: ListenAddress?
    /// The client certificate that passed verification (TLS listeners only).
    package var peerCertificate: Certificate?
    /// `TLSv1.3` or `TLSv1.2`; nil on a plain listener.
    package var tlsVersion: String?
    /// The verified chain, client certificate first and the trust anchor (a client CA certificate)
    /// last, as checked for the current request; empty on a plain listener.
    package var peerChain: [Certificate] = []

    package init(id: UInt64, listener: String, remoteAddress: ListenAddress?, peerCertificate: Certificate?, tlsVersion: String?) {
        self.id = id
        self.listener = listener
        self.remoteAddress = remoteAddress
        self.peerCertificate = peerCertificate
        self.tlsVersion = tlsVersion
    }
}

/// A response now, or work to run off the event loop that produces one.
package enum Reply: Sendable {
    /// Answered on the event loop: only for work that cannot block (lookups, small renders).
    case now(HTTPResponse)
    /// Run as a task; the connection waits for it without blocking its loop.
    case later(@Sendable () async -> HTTPResponse)
}

/// Turns requests into responses. Called on an event loop thread: `reply` must not block.
///
/// A responder is usually a `MiddlewareChain` around a router (see `APIResponder`); only
/// `reply(to:on:)` is required: the answers to what never became a request have defaults.
package protocol HTTPResponder: Sendable {
    func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply
    /// The answer to a request that could not be read: malformed, over a limit, or too slow
    /// (`HTTPParseError.Kind.requestTimeout`); the connection closes after it.
    /// Default: the error's problem.
    func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse
    /// The answer when the server is at its connection limit (the connection closes after it).
    /// Default: 503 `connection-limit` with `Retry-After: 1`.
    func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse
    /// The answer to plain HTTP sent to a TLS port (the handshake failure is already logged);
    /// the connection closes after it. Default: 400 `https-required`, kept out of caches.
    func replyToPlainHTTP(on connection: ConnectionContext) -> HTTPResponse
}

extension Problem {
    /// Plain HTTP sent to a port that speaks HTTPS with a client certificate.
    package static let httpsRequired = Problem(
        .badRequest, slug: "https-required", title: "This port speaks HTTPS",
        detail: "This port speaks HTTPS with a client certificate (mutual TLS); plain HTTP was sent. Use https:// and present your partner certificate."
    )

    /// The server is at its connection limit; `Retry-After: 1`.
    package static func connectionLimit(
        detail: String = "refex is at its connection limit; retry shortly, and reuse connections (keep-alive)."
    ) -> Problem {
        Problem(.serviceUnavailable, slug: "connection-limit", title: "Too many connections", detail: detail, headers: ["retry-after": "1"])
    }
}

extension HTTPResponder {
    package func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse {
        Problem(error).response
    }

    package func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse {
        Problem.connectionLimit().response
    }

    package func replyToPlainHTTP(on connection: ConnectionContext) -> HTTPResponse {
        var response = Problem.httpsRequired.response
        response.headers.set("cache-control", "no-store")
        response.headers.set("x-content-type-options", "nosniff")
        return response
    }
}
