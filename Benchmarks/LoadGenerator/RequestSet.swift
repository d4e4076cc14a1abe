import Foundation

/// The request bytes to send, built once: one request, or one per body file (sent round-robin).
struct RequestSet: Sendable {
    let requests: [[UInt8]]
    /// Whether responses carry no body whatever their Content-Length (HEAD).
    let expectsNoBody: Bool
    /// With `--unique TEXT`: each request's head and body (split at the placeholder), rebuilt per request.
    private let templates: [(head: String, parts: [[UInt8]])]
    private let runTag: String

    init(options: BenchOptions) throws {
        let bodies = try RequestSet.loadBodies(options.bodyPaths)
        var head = "\(options.method) \(options.url.path) HTTP/1.1\r\nHost: \(options.url.authority)\r\nUser-Agent: refex-bench\r\nAccept: */*\r\n"
        for (name, value) in options.extraHeaders { head += "\(name): \(value)\r\n" }
        if options.mode == .handshake { head += "Connection: close\r\n" }
        runTag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        if let placeholder = options.uniquePlaceholder, !bodies.isEmpty {
            let contentType = options.contentType ?? "application/json"
            let marker = Array(placeholder.utf8)
            templates = bodies.map { body in
                (head + "Content-Type: \(contentType)\r\n", RequestSet.split(body, at: marker))
            }
        } else {
            templates = []
        }
        if bodies.isEmpty {
            requests = [Array((head + "\r\n").utf8)]
        } else {
            let contentType = options.contentType ?? "application/json"
            requests = bodies.map { body in
                Array((head + "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n").utf8) + body
            }
        }
        expectsNoBody = options.method == "HEAD"
    }

    /// The bytes for a slot's `counter`-th request: with `--unique`, the placeholder replaced by a
    /// token no other request of this run has.
    func request(slot: Int, counter: Int, sequence: Int) -> [UInt8] {
        guard !templates.isEmpty else { return requests[sequence % requests.count] }
        let template = templates[sequence % templates.count]
        let token = Array("\(runTag)s\(slot)n\(counter)".utf8)
        var body: [UInt8] = []
        for (index, part) in template.parts.enumerated() {
            if index > 0 { body += token }
            body += part
        }
        return Array((template.head + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
    }

    private static func split(_ body: [UInt8], at marker: [UInt8]) -> [[UInt8]] {
        guard !marker.isEmpty else { return [body] }
        var parts: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + marker.count <= body.count {
            if body[index..<index + marker.count].elementsEqual(marker) {
                parts.append(Array(body[start..<index]))
                index += marker.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(Array(body[start...]))
        return parts
    }

    /// The files named, a directory standing for the regular files in it (sorted by name).
    private static func loadBodies(_ paths: [String]) throws -> [[UInt8]] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw BenchError("--body: \(path) does not exist")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
                for name in names {
                    let file = (path as NSString).appendingPathComponent(name)
                    var nested: ObjCBool = false
                    if FileManager.default.fileExists(atPath: file, isDirectory: &nested), !nested.boolValue { files.append(file) }
                }
            } else {
                files.append(path)
            }
        }
        if !paths.isEmpty && files.isEmpty { throw BenchError("--body: no files in \(paths.joined(separator: ", "))") }
        return try files.map { file in
            guard let data = FileManager.default.contents(atPath: file) else { throw BenchError("--body: cannot read \(file)") }
            return Array(data)
        }
    }
}
