import Foundation
import JSON

/// curl could not complete a request (no HTTP answer): what it printed.
package struct CurlFailed: Error, CustomStringConvertible {
    package var description: String
}

extension RefexProcess {
    /// `method path` on the partner API as `partner`, through curl: `body` is sent as JSON (as a
    /// merge patch for PATCH), and a POST without one sends an empty body.
    package func request(_ method: String, _ path: String, _ body: JSONValue? = nil, as partner: String = "police") throws -> ClientResponse {
        var arguments = ["-X", method]
        if let body {
            let file = ProjectPaths.temporaryDirectory() + "/body.json"
            try Data(body.serialized()).write(to: URL(fileURLWithPath: file))
            let type = method == "PATCH" ? "application/merge-patch+json" : "application/json"
            arguments += ["-H", "Content-Type: \(type)", "--data-binary", "@\(file)"]
        } else if method == "POST" {
            arguments += ["-d", ""]
        }
        let (result, response) = try Curl.request(arguments + ["\(baseURL)\(path)"], as: partner)
        guard let response else { throw CurlFailed(description: result.errorOutput) }
        return response
    }
}
