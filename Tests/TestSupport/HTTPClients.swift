import Foundation
import JSON

/// A response as a real client (curl) received it.
package struct ClientResponse: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: String
    /// Every status line curl saw, including interim `100 Continue`.
    package var statusLines: [String]

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    package var json: JSONValue? { try? JSONValue.parse(body) }
}

/// curl as a partner: mutual TLS with a certificate from `TestPKI`.
package enum Curl {
    /// Runs curl with `arguments` as `partner` (nil: no client certificate). nil response if curl failed.
    package static func request(
        _ arguments: [String], as partner: String?, timeout: TimeInterval = 30
    ) throws -> (result: SubprocessResult, response: ClientResponse?) {
        var args = ["-sS", "-i", "--max-time", "\(Int(timeout))", "--cacert", try TestPKI.certificate("ca")]
        if let partner {
            args += ["--cert", try TestPKI.certificate(partner), "--key", try TestPKI.key(partner)]
        }
        args += arguments
        let result = try Subprocess.run("curl", args, timeout: timeout + 5)
        guard result.status == 0 else { return (result, nil) }
        return (result, parse(result.stdout))
    }

    /// Splits curl's `-i` output: interim 1xx blocks, then the final head and body. With several
    /// URLs, only the first response is returned.
    package static func parse(_ data: Data) -> ClientResponse? {
        var text = String(decoding: data, as: UTF8.self)[...]
        var statusLines: [String] = []
        while let end = text.range(of: "\r\n\r\n") {
            let head = text[..<end.lowerBound]
            text = text[end.upperBound...]
            let lines = head.components(separatedBy: "\r\n")
            guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/") else { return nil }
            statusLines.append(statusLine)
            let parts = statusLine.split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
            if status < 200 { continue }
            let headers = lines.dropFirst().compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            var body = String(text)
            if let length = headers.first(where: { $0.0.lowercased() == "content-length" }).flatMap({ Int($0.1) }) {
                body = String(decoding: Array(body.utf8).prefix(length), as: UTF8.self)
            }
            return ClientResponse(status: status, headers: headers, body: body, statusLines: statusLines)
        }
        return nil
    }
}

/// `Tests/scripts/tlsclient.py` (Python's ssl module) for raw bytes, slow clients and held connections.
package enum PythonTLSClient {
    package static var script: String { "\(ProjectPaths.root)/Tests/scripts/tlsclient.py" }

    package static func arguments(port: UInt16, partner: String?) throws -> [String] {
        var args = [script, "--port", String(port), "--ca", try TestPKI.certificate("ca")]
        if let partner {
            args += ["--cert", try TestPKI.certificate(partner), "--key", try TestPKI.key(partner)]
        }
        return args
    }

    /// Runs a subcommand and returns its JSON result.
    package static func run(port: UInt16, partner: String?, _ command: [String], timeout: TimeInterval = 60) throws -> JSONValue {
        let result = try Subprocess.run("python3", try arguments(port: port, partner: partner) + command, timeout: timeout)
        guard result.status == 0 else {
            throw SubprocessError(description: "tlsclient.py failed (\(result.status)): \(result.errorOutput)")
        }
        return try JSONValue.parse(result.output)
    }
}
