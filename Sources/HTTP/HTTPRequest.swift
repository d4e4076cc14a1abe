/// The HTTP versions refex speaks.
package enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    case http1_0
    case http1_1

    package var description: String { self == .http1_0 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// A complete request: head and the whole body (refex's bodies are bounded JSON documents).
package struct HTTPRequest: Sendable {
    package var method: HTTPMethod
    /// The request-target as received (origin-form: path and optional query).
    package var target: String
    package var version: HTTPVersion
    package var headers: HTTPHeaders
    package var body: [UInt8]
    /// Whether the client asked to keep the connection open after this request.
    package var keepAlive: Bool

    package init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], keepAlive: Bool = true
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// The path part of the target, still percent-encoded.
    package var path: Substring {
        if let query = target.firstIndex(of: "?") { return target[..<query] }
        return target[...]
    }

    /// The query part of the target without `?`, if any.
    package var query: Substring? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: mark)...]
    }

    /// Query parameters, percent-decoded (`+` is a space); malformed escapes are kept as they are.
    package var queryItems: [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(parts[0], plusAsSpace: true)
            let value = parts.count > 1 ? percentDecoded(parts[1], plusAsSpace: true) : ""
            return (name, value)
        }
    }

    /// The media type of the body without parameters, lower-cased (`application/json`).
    package var mediaType: String? {
        guard let value = headers["content-type"] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingOptionalWhitespace() } ?? ""
        return type.isEmpty ? nil : type.lowercased()
    }

    /// `application/json` or any `+json` type.
    package var hasJSONBody: Bool {
        guard let type = mediaType else { return false }
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}

/// Percent-decodes one path segment or query component.
package func percentDecoded(_ text: Substring, plusAsSpace: Bool = false) -> String {
    guard text.utf8.contains(where: { $0 == 0x25 || (plusAsSpace && $0 == 0x2B) }) else { return String(text) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = Array(text.utf8)[...]
    while let byte = iterator.popFirst() {
        if byte == 0x25, iterator.count >= 2,
           let high = hexValue(iterator[iterator.startIndex]),
           let low = hexValue(iterator[iterator.startIndex + 1]) {
            bytes.append(high << 4 | low)
            iterator.removeFirst(2)
        } else if plusAsSpace && byte == 0x2B {
            bytes.append(0x20)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}
