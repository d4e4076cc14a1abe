/// Maps a method and path to a handler; built once, then read concurrently.
///
/// Patterns are literal segments and `:name` parameters (`/v1/referrals/:id`). Segments are
/// percent-decoded before matching. A GET route also answers HEAD.
package struct Router<Handler: Sendable>: Sendable {
    private struct Entry: Sendable {
        var method: HTTPMethod
        var pattern: String
        var segments: [Segment]
        var handler: Handler
    }

    private enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    private var entries: [Entry] = []
    /// Routes without parameters, by method and path: looked up without splitting the path.
    private var exact: [String: [HTTPMethod: Int]] = [:]

    package init() {}

    package mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: Handler) {
        var segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part -> Segment in
            part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(String(part))
        }
        // A trailing slash is a different resource: "/console/" has an empty last segment.
        if pattern.count > 1, pattern.hasSuffix("/") { segments.append(.literal("")) }
        precondition(!entries.contains { $0.method == method && $0.segments == segments }, "route \(method) \(pattern) added twice")
        entries.append(Entry(method: method, pattern: pattern, segments: segments, handler: handler))
        if !segments.contains(where: { if case .parameter = $0 { return true } else { return false } }) {
            let path = "/" + segments.map { if case .literal(let text) = $0 { return text } else { return "" } }.joined(separator: "/")
            exact[path, default: [:]][method] = entries.count - 1
        }
    }

    /// Every route as added, e.g. `(.get, "/v1/referrals/:id", handler)`: for documents and tests
    /// that must list what the router serves.
    package var routes: [(method: HTTPMethod, pattern: String, handler: Handler)] {
        entries.map { ($0.method, $0.pattern, $0.handler) }
    }

    /// The outcome of looking a request up.
    package enum Match: Sendable {
        /// `pattern` is the route as written, e.g. for metrics labels.
        case found(Handler, pattern: String, parameters: [String: String])
        /// `pattern` is the first route whose path matched, for logs and metrics.
        case methodNotAllowed(allowed: [HTTPMethod], pattern: String)
        case notFound
    }

    package func match(_ method: HTTPMethod, path: Substring) -> Match {
        // The common case: a path with no escapes naming a route without parameters.
        if !path.utf8.contains(0x25), let methods = exact[String(path)] {
            if let index = methods[method] ?? (method == .head ? methods[.get] : nil) {
                let entry = entries[index]
                return .found(entry.handler, pattern: entry.pattern, parameters: [:])
            }
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        // A trailing slash is a different resource; only "/" itself is an empty path.
        let segments = (parts.count == 1 && parts.first == "") ? [] : parts.map { percentDecoded($0) }
        var allowed: [HTTPMethod] = []
        var matched: String?
        for entry in entries {
            guard let parameters = bind(entry.segments, to: segments) else { continue }
            if entry.method == method || (method == .head && entry.method == .get) {
                return .found(entry.handler, pattern: entry.pattern, parameters: parameters)
            }
            matched = matched ?? entry.pattern
            allowed.append(entry.method)
            if entry.method == .get { allowed.append(.head) }
        }
        guard let matched else { return .notFound }
        return .methodNotAllowed(allowed: allowed, pattern: matched)
    }

    private func bind(_ pattern: [Segment], to segments: [String]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (part, segment) in zip(pattern, segments) {
            switch part {
            case .literal(let text): if text != segment { return nil }
            case .parameter(let name):
                if segment.isEmpty { return nil }
                parameters[name] = segment
            }
        }
        return parameters
    }
}
