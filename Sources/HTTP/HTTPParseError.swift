/// Why a request could not be read. Each carries the status to answer with; after one the
/// connection cannot be trusted to be in step with the client, so it is closed.
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
        case lengthRequired = "length-required"
        case bodyTooLarge = "body-too-large"
        case malformedChunk = "malformed-chunk"
        case unsupportedExpectation = "unsupported-expectation"
    }

    package var kind: Kind
    /// What to tell the client; never echoes request bytes.
    package var detail: String

    package init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
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
        case .lengthRequired: return .lengthRequired
        case .bodyTooLarge: return .contentTooLarge
        case .unsupportedExpectation: return .expectationFailed
        }
    }

    package var description: String { "\(status.code) \(kind.rawValue): \(detail)" }
}
