import Foundation
import HTTP

/// The partner API as an OpenAPI 3.1 document (`openapi.v1.json` in the schemas folder), served
/// at `GET /v1/openapi.json` to any partner. Read once at start, like the schemas.
package struct OpenAPIDocument: Sendable {
    /// The file's name in the schemas folder.
    package static let fileName = "openapi.v1.json"

    private let bytes: [UInt8]?

    /// No document: the route answers 404 saying what is missing.
    package static let missing = OpenAPIDocument(bytes: nil)

    private init(bytes: [UInt8]?) { self.bytes = bytes }

    /// The document in `schemasFolder`, or `missing` when the file is absent or unreadable (an
    /// older install): refex serves without it.
    package init(schemasFolder: String) {
        bytes = FileManager.default.contents(atPath: "\(schemasFolder)/\(OpenAPIDocument.fileName)").map(Array.init)
    }

    func response() throws -> HTTPResponse {
        guard let bytes else {
            throw Problem.notFound("The OpenAPI document (\(OpenAPIDocument.fileName)) is not installed with this refex's schemas.")
        }
        return HTTPResponse(status: .ok, headers: ["content-type": "application/json"], body: bytes)
    }
}
