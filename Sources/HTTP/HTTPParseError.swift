/// Why a request could not be read. Each carries the status to answer with; after one the
/// connection cannot be trusted to be in step with the client, so it is closed.
///
/// When the request line was read before the failure, `method` and `target` say what the
/// request was, so that it is logged as the request it was (never echoed to the client).
package struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Sendable, Hashable {
        case malformedRequestLine = "malformed-request-line"
        case invalidTarget = "invalid-target"
        case targetTooLong = "target-too-long"
        case unsupportedVersion = "unsupported-version"
        case malformedHeader = "malformed-header"
        case headersTooLarge = "headers-too-large"
        case missingHost = "missing-host"
        case conflictingFraming = "conflicting-framing"
        case invalidContentLength = "invalid-content-length"
        case unsupportedTransferCoding = "unsupported-transfer-coding"
        case bodyTooLarge = "body-too-large"
        case malformedChunk = "malformed-chunk"
        case unsupportedExpectation = "unsupported-expectation"
        /// The request did not arrive in the time allowed (the header or the body timeout).
        case requestTimeout = "request-timeout"
    }

    package var kind: Kind
    /// What to tell the client; never echoes request bytes.
    package var detail: String
    /// The request's method, when its request line had been read.
    package var method: HTTPMethod?
    /// The request's target as received (origin-form), when its request line had been read.
    package var target: String?

    package init(_ kind: Kind, _ detail: String, method: HTTPMethod? = nil, target: String? = nil) {
        self.kind = kind
        self.detail = detail
        self.method = method
        self.target = target
    }

    package var status: HTTPStatus {
        switch kind {
        case .malformedRequestLine, .invalidTarget, .malformedHeader, .missingHost, .conflictingFraming,
             .invalidContentLength, .malformedChunk:
            return .badRequest
        case .targetTooLong: return .uriTooLong
        case .unsupportedVersion: return .httpVersionNotSupported
        case .headersTooLarge: return .requestHeaderFieldsTooLarge
        case .unsupportedTransferCoding: return .notImplemented
        case .bodyTooLarge: return .contentTooLarge
        case .unsupportedExpectation: return .expectationFailed
        case .requestTimeout: return .requestTimeout
        }
    }

    package var description: String { "\(status.code) \(kind.rawValue): \(detail)" }
}
