/// Why a request did not count as a success; the report counts each kind.
enum Failure: String, CaseIterable, Sendable {
    case connect
    case handshake
    case write
    case timeout
    /// The connection closed before the whole response arrived.
    case closed
    /// A TLS alert or error after the handshake (under TLS 1.3, a refused client certificate shows up here).
    case tls
    case malformed
    /// A whole, well-formed response with another status than expected.
    case status
}

/// A failed request: its kind and what happened, for the first example of each kind in the report.
struct FailureEvent: Error {
    var kind: Failure
    var detail: String
    init(_ kind: Failure, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}
