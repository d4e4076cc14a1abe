import Foundation
import HTTP
import JSON
import Logging
import Server
import Synchronization

/// The sample recipient's request handling: accepts deliveries and notices, writes each once.
final class SinkResponder: HTTPResponder {
    private let configuration: SinkConfiguration
    private let logger: Logger
    private let requests = Atomic<Int>(0)
    private let writeLock = Mutex<Void>(())

    init(configuration: SinkConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
        let number = requests.add(1, ordering: .relaxed).newValue
        guard configuration.delayMilliseconds > 0 else { return .now(handle(request, number: number)) }
        let delay = configuration.delayMilliseconds
        return .later { [self] in
            try? await Task.sleep(for: .milliseconds(delay))
            return handle(request, number: number)
        }
    }

    private func handle(_ request: HTTPRequest, number: Int) -> HTTPResponse {
        let key = request.headers["idempotency-key"] ?? ""
        let response = answer(request, number: number, key: key)
        journal(number: number, key: key, status: response.status.code)
        return response
    }

    private func answer(_ request: HTTPRequest, number: Int, key: String) -> HTTPResponse {
        guard request.method == .post else {
            return Problem.methodNotAllowed(allowed: [.post]).response
        }
        if let status = configuration.alwaysStatus {
            return failure(status)
        }
        if number <= configuration.failFirst {
            return failure(configuration.failStatus)
        }
        guard isIdentifier(key) else {
            return Problem(.badRequest, slug: "idempotency-key", title: "Idempotency-Key required", detail: "Send Idempotency-Key.").response
        }
        guard let body = try? JSONValue.parse(request.body), let disclosure = body["disclosureId"]?.stringValue, isIdentifier(disclosure) else {
            return Problem(.badRequest, slug: "bad-body", title: "Not a delivery", detail: "Expected a JSON object with disclosureId.").response
        }
        let type = body["type"]?.stringValue ?? "disclosure"
        guard type == "disclosure" || type == "erasure-notice" || type == "rectification-notice" else {
            return Problem(.badRequest, slug: "bad-type", title: "Unknown type", detail: "Unknown delivery type.").response
        }
        let name = type == "disclosure" ? "\(disclosure).json" : "\(disclosure).\(type).\(key).json"
        let path = "\(configuration.directory)/\(name)"
        let written: Bool = writeLock.withLock { _ in
            if FileManager.default.fileExists(atPath: path) { return false }
            let temporary = "\(path).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(request.body)),
                  rename(temporary, path) == 0 else { return false }
            return true
        }
        logger.info(written ? "received" : "duplicate", [("type", type), ("disclosure", disclosure), ("key", key)])
        return HTTPResponse(status: written ? .created : .ok, json: ["status": .string(written ? "stored" : "duplicate"), "key": .string(key)])
    }

    private func failure(_ status: Int) -> HTTPResponse {
        var response = Problem(HTTPStatus(code: status), slug: "sink-failure", title: "Failing on purpose", detail: "refex sink was told to fail.").response
        if let retryAfter = configuration.retryAfter {
            if let form = configuration.retryAfterDateForm, let seconds = Int(retryAfter) {
                response.headers.set("retry-after", form.format(secondsSince1970: Int(Date().timeIntervalSince1970) + seconds))
            } else {
                response.headers.set("retry-after", retryAfter)
            }
        }
        return response
    }

    /// `requests.log`: one line per request (number, key, status), for tests to count attempts.
    private func journal(number: Int, key: String, status: Int) {
        let line = "\(number) \(Int(Date().timeIntervalSince1970 * 1000)) \(isIdentifier(key) ? key : "-") \(status)\n"
        writeLock.withLock { _ in
            let path = "\(configuration.directory)/requests.log"
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data(line.utf8))
                try? handle.close()
            } else if !FileManager.default.createFile(atPath: path, contents: Data(line.utf8)) {
                logger.error("cannot write the request journal", [("path", path)])
            }
        }
    }

    func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse { Problem(error).response }
    func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse { HTTPResponse(status: .serviceUnavailable) }
}

/// Ids and keys: UUID characters only, so that they are safe as file names.
func isIdentifier(_ text: String) -> Bool {
    !text.isEmpty && text.utf8.count <= 80 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }
}
