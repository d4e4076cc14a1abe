import Foundation

/// The request bytes to send, built once: one request, or one per body file (sent round-robin).
struct RequestSet: Sendable {
    let requests: [[UInt8]]
    /// Whether responses carry no body whatever their Content-Length (HEAD).
    let expectsNoBody: Bool

    init(options: BenchOptions) throws {
        let bodies = try RequestSet.loadBodies(options.bodyPaths)
        var head = "\(options.method) \(options.url.path) HTTP/1.1\r\nHost: \(options.url.authority)\r\nUser-Agent: refex-bench\r\nAccept: */*\r\n"
        for (name, value) in options.extraHeaders { head += "\(name): \(value)\r\n" }
        if options.mode == .handshake { head += "Connection: close\r\n" }
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
