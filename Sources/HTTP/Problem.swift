import JSON

/// An RFC 9457 problem: thrown by handlers, answered as `application/problem+json`.
///
/// `detail` is for the partner's developer; it names fields and rules, never values from a
/// request (they may be personal data).
package struct Problem: Error, Sendable {
    package var status: HTTPStatus
    /// A URI naming the kind of problem: `urn:refex:problem:<slug>`.
    package var type: String
    package var title: String
    package var detail: String
    /// Members beyond the standard ones, e.g. `errors` for schema failures.
    package var extensions: [(String, JSONValue)]
    /// Headers the answer must carry, e.g. `Allow` on 405 or `Retry-After` on 503.
    package var headers: HTTPHeaders

    package init(
        _ status: HTTPStatus, slug: String, title: String, detail: String,
        extensions: [(String, JSONValue)] = [], headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.status = status
        self.type = "urn:refex:problem:\(slug)"
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    package var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("type", .string(type)),
            ("title", .string(title)),
            ("status", .number(JSONNumber(status.code))),
            ("detail", .string(detail)),
        ]
        members.append(contentsOf: extensions)
        return .object(JSONObject(members))
    }

    package var response: HTTPResponse {
        var headers = self.headers
        headers.set("content-type", "application/problem+json")
        return HTTPResponse(status: status, headers: headers, body: json.serialized())
    }
}

extension Problem {
    /// The answer to a request that could not be parsed.
    package init(_ error: HTTPParseError) {
        let title: String
        switch error.kind {
        case .malformedRequestLine, .invalidTarget, .malformedHeader, .missingHost, .conflictingFraming,
             .invalidContentLength, .malformedChunk:
            title = "Malformed request"
        case .targetTooLong: title = "Request target too long"
        case .unsupportedVersion: title = "HTTP version not supported"
        case .headersTooLarge: title = "Header fields too large"
        case .unsupportedTransferCoding: title = "Transfer coding not supported"
        case .bodyTooLarge: title = "Content too large"
        case .unsupportedExpectation: title = "Expectation not supported"
        case .requestTimeout: title = "Request too slow"
        }
        self.init(error.status, slug: error.kind.rawValue, title: title, detail: error.detail)
    }

    package static func notFound(_ detail: String = "There is nothing at this path.") -> Problem {
        Problem(.notFound, slug: "not-found", title: "Not found", detail: detail)
    }

    package static func methodNotAllowed(allowed: [HTTPMethod]) -> Problem {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return Problem(
            .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
            detail: "This path answers \(list).", headers: ["allow": list]
        )
    }

    package static func unsupportedMediaType() -> Problem {
        Problem(
            .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type",
            detail: "Send the body as application/json."
        )
    }

    package static func internalError(requestID: String) -> Problem {
        Problem(
            .internalServerError, slug: "internal-error", title: "Internal error",
            detail: "refex could not complete the request; quote request id \(requestID) to the operator."
        )
    }
}
