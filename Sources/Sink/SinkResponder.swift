import Foundation
import HTTP
import JSON
import Logging
import Server
import Synchronization

/// The sample recipient's request handling: accepts deliveries and notices, writes each once.
///
/// A `MiddlewareChain`: the journal (`requests.log`, one line per request), the configured delay,
/// POST only (405 on any path otherwise), the configured failures, then the delivery itself.
final class SinkResponder: HTTPResponder {
    private let requests = Atomic<Int>(0)
    private let handler: RequestHandler<SinkRequestContext>

    init(configuration: SinkConfiguration, logger: Logger) {
        let writeLock = SinkWriteLock()
        var chain = MiddlewareChain<SinkRequestContext>()
        chain.add(SinkJournalMiddleware(directory: configuration.directory, writeLock: writeLock, logger: logger))
        chain.add(SinkDelayMiddleware(milliseconds: configuration.delayMilliseconds))
        chain.add(AllowedMethodsMiddleware([.post]))
        chain.add(SinkFailureMiddleware(configuration: configuration))
        handler = chain.handler { request, _ in
            .response(Self.store(request, configuration: configuration, writeLock: writeLock, logger: logger))
        }
    }

    func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
        handler(request, SinkRequestContext(number: requests.add(1, ordering: .relaxed).newValue)).reply
    }

    /// Writes a delivery or notice once: 201 the first time, 200 for a duplicate.
    private static func store(_ request: HTTPRequest, configuration: SinkConfiguration, writeLock: SinkWriteLock, logger: Logger) -> HTTPResponse {
        let key = request.headers["idempotency-key"] ?? ""
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
        let written: Bool = writeLock.withLock {
            if FileManager.default.fileExists(atPath: path) { return false }
            let temporary = "\(path).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(request.body)),
                  rename(temporary, path) == 0 else { return false }
            return true
        }
        logger.info(written ? "received" : "duplicate", [("type", type), ("disclosure", disclosure), ("key", key)])
        return HTTPResponse(status: written ? .created : .ok, json: ["status": .string(written ? "stored" : "duplicate"), "key": .string(key)])
    }

}

/// Serialises the sink's writes: deliveries (each written once) and journal lines.
final class SinkWriteLock: Sendable {
    private let mutex = Mutex<Void>(())

    func withLock<Result: Sendable>(_ body: () -> Result) -> Result {
        mutex.withLock { _ in body() }
    }
}

/// The request's number, counted from 1 as requests arrive (before any delay).
struct SinkRequestContext: Sendable {
    var number: Int
}

/// `requests.log`: one line per request (number, key, status) once it is answered, for tests to
/// count attempts.
struct SinkJournalMiddleware: Middleware {
    let directory: String
    let writeLock: SinkWriteLock
    let logger: Logger

    func handle(_ request: HTTPRequest, context: SinkRequestContext, next: @escaping RequestHandler<SinkRequestContext>) -> PendingResponse {
        let key = request.headers["idempotency-key"] ?? ""
        return next(request, context).map { [self] result in
            journal(number: context.number, key: key, status: (try? result.get())?.status.code ?? 500)
            return result
        }
    }

    private func journal(number: Int, key: String, status: Int) {
        let line = "\(number) \(Int(Date().timeIntervalSince1970 * 1000)) \(isIdentifier(key) ? key : "-") \(status)\n"
        writeLock.withLock {
            let path = "\(directory)/requests.log"
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data(line.utf8))
                try? handle.close()
            } else if !FileManager.default.createFile(atPath: path, contents: Data(line.utf8)) {
                logger.error("cannot write the request journal", [("path", path)])
            }
        }
    }
}

/// `--delay-ms`: answers after a pause, off the event loop.
struct SinkDelayMiddleware: Middleware {
    let milliseconds: Int

    func handle(_ request: HTTPRequest, context: SinkRequestContext, next: @escaping RequestHandler<SinkRequestContext>) -> PendingResponse {
        guard milliseconds > 0 else { return next(request, context) }
        let milliseconds = self.milliseconds
        return .later {
            try? await Task.sleep(for: .milliseconds(milliseconds))
            return try await next(request, context).value()
        }
    }
}

/// `--always-status`, `--fail-first`: failing on purpose, with the configured `Retry-After`.
struct SinkFailureMiddleware: Middleware {
    let configuration: SinkConfiguration

    func handle(_ request: HTTPRequest, context: SinkRequestContext, next: @escaping RequestHandler<SinkRequestContext>) -> PendingResponse {
        if let status = configuration.alwaysStatus { return .response(failure(status)) }
        if context.number <= configuration.failFirst { return .response(failure(configuration.failStatus)) }
        return next(request, context)
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
}

/// Ids and keys: UUID characters only, so that they are safe as file names.
func isIdentifier(_ text: String) -> Bool {
    !text.isEmpty && text.utf8.count <= 80 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }
}
