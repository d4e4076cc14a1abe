/// An HTTP status code with its reason phrase.
package struct HTTPStatus: Sendable, Hashable, CustomStringConvertible {
    package let code: Int
    package let reasonPhrase: String

    package init(_ code: Int, _ reasonPhrase: String) {
        self.code = code
        self.reasonPhrase = reasonPhrase
    }

    package init(code: Int) {
        self.init(code, HTTPStatus.reasonPhrases[code] ?? "Status \(code)")
    }

    package var description: String { "\(code) \(reasonPhrase)" }

    package static let `continue` = HTTPStatus(100, "Continue")
    package static let ok = HTTPStatus(200, "OK")
    package static let created = HTTPStatus(201, "Created")
    package static let accepted = HTTPStatus(202, "Accepted")
    package static let noContent = HTTPStatus(204, "No Content")
    package static let badRequest = HTTPStatus(400, "Bad Request")
    package static let unauthorized = HTTPStatus(401, "Unauthorized")
    package static let forbidden = HTTPStatus(403, "Forbidden")
    package static let notFound = HTTPStatus(404, "Not Found")
    package static let methodNotAllowed = HTTPStatus(405, "Method Not Allowed")
    package static let requestTimeout = HTTPStatus(408, "Request Timeout")
    package static let conflict = HTTPStatus(409, "Conflict")
    package static let gone = HTTPStatus(410, "Gone")
    package static let lengthRequired = HTTPStatus(411, "Length Required")
    package static let contentTooLarge = HTTPStatus(413, "Content Too Large")
    package static let uriTooLong = HTTPStatus(414, "URI Too Long")
    package static let unsupportedMediaType = HTTPStatus(415, "Unsupported Media Type")
    package static let expectationFailed = HTTPStatus(417, "Expectation Failed")
    package static let unprocessableContent = HTTPStatus(422, "Unprocessable Content")
    package static let tooManyRequests = HTTPStatus(429, "Too Many Requests")
    package static let requestHeaderFieldsTooLarge = HTTPStatus(431, "Request Header Fields Too Large")
    package static let internalServerError = HTTPStatus(500, "Internal Server Error")
    package static let notImplemented = HTTPStatus(501, "Not Implemented")
    package static let serviceUnavailable = HTTPStatus(503, "Service Unavailable")
    package static let httpVersionNotSupported = HTTPStatus(505, "HTTP Version Not Supported")

    private static let reasonPhrases: [Int: String] = {
        let known: [HTTPStatus] = [
            .continue, .ok, .created, .accepted, .noContent, .badRequest, .unauthorized, .forbidden, .notFound,
            .methodNotAllowed, .requestTimeout, .conflict, .gone, .lengthRequired, .contentTooLarge, .uriTooLong,
            .unsupportedMediaType, .expectationFailed, .unprocessableContent, .tooManyRequests,
            .requestHeaderFieldsTooLarge, .internalServerError, .notImplemented, .serviceUnavailable,
            .httpVersionNotSupported,
            HTTPStatus(408, "Request Timeout"), HTTPStatus(425, "Too Early"), HTTPStatus(502, "Bad Gateway"),
            HTTPStatus(504, "Gateway Timeout"),
        ]
        return Dictionary(known.map { ($0.code, $0.reasonPhrase) }, uniquingKeysWith: { first, _ in first })
    }()
}
