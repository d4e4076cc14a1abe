import Foundation

/// `https://host:port/path`: where the requests go.
struct TargetURL: Sendable {
    var scheme: String
    var host: String
    var port: UInt16
    var path: String

    init(scheme: String, host: String, port: UInt16, path: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    init(parsing text: String) throws {
        guard text.hasPrefix("https://") else { throw UsageError("--url must start with https:// (refex-bench speaks TLS only)") }
        let rest = text.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = String(authority)
        var port: UInt16 = 443
        if authority.hasPrefix("[") {
            // [v6]:port
            guard let close = authority.firstIndex(of: "]") else { throw UsageError("--url: unclosed [ in the host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = UInt16(after.dropFirst()) else { throw UsageError("--url: the port is not a number") }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = UInt16(authority[authority.index(after: colon)...]) else { throw UsageError("--url: the port is not a number") }
            port = value
        }
        guard !host.isEmpty else { throw UsageError("--url has no host") }
        self.init(scheme: "https", host: host, port: port, path: path.isEmpty ? "/" : String(path))
    }

    /// The Host header value.
    var authority: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return port == 443 ? shownHost : "\(shownHost):\(port)"
    }
}
