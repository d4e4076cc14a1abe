import Foundation

/// A libpq connection string (`host=db1,db2 dbname=refex target_session_attrs=read-write`) or
/// URL (`postgresql://refex@db1,db2/refex?sslmode=verify-full`), read only as far as refex needs:
/// which settings carry a secret, and a form that is safe to show.
///
/// Every message, log line, metric and `refex config check` line that mentions a connection
/// string shows `redacted`, never the text as given: a password (`password=`, `sslpassword=`, or
/// `user:password@` in a URL, percent-encoded or not, quoted or not) is replaced by `***`. A
/// string that cannot be read at all is shown as `(unreadable connection string)`, since where its
/// secret would be cannot be told. Grammar: libpq's (PostgreSQL documentation, "Connection
/// Strings", 34.1.1).
package struct PostgresConnectionString: Sendable, Hashable {
    /// The settings as written (keys lower-cased; values decoded: unquoted, percent-decoded).
    package private(set) var settings: [(key: String, value: String)] = []
    /// The URL's password (`user:password@`), decoded; nil for the key=value form or none given.
    package private(set) var urlPassword: String?
    package let isURL: Bool
    /// The text as given (holds any secret: never shown).
    private let text: String

    /// The text as given, for libpq alone: it may hold a secret (never show it; show `redacted`).
    package var unredacted: String { text }

    /// What shows in place of a secret.
    package static let mask = "***"
    /// Settings whose value is a secret, in any form.
    package static let secretKeys: Set<String> = ["password", "sslpassword"]

    /// Reads `text`; throws `PostgresConnectionStringError` saying what is wrong, never quoting it.
    package init(_ text: String) throws(PostgresConnectionStringError) {
        self.text = text
        let trimmed = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") {
            isURL = true
            try parseURL(String(trimmed))
        } else {
            isURL = false
            try parseKeywords(String(trimmed))
        }
    }

    /// The settings (or URL parts) that carry a secret, as named in messages: `password`,
    /// `sslpassword`, or `the URL's user:password@`. Empty when there are none.
    package var secretSettings: [String] {
        var names: [String] = []
        if urlPassword != nil { names.append("the URL's user:password@") }
        for (key, value) in settings {
            if Self.secretKeys.contains(key) && !names.contains(key) { names.append(key) }
            // libpq reads a dbname holding '=' or a URL as a connection string of its own.
            if key == "dbname", let nested = Self.nested(value) {
                for name in nested.secretSettings where !names.contains("dbname: \(name)") { names.append("dbname: \(name)") }
            }
        }
        return names
    }

    /// The value of `key` (the last one given, as libpq takes it), decoded.
    package func value(_ key: String) -> String? {
        settings.last { $0.key == key }?.value
    }

    /// The hosts named (`host=db1,db2`, or a URL's `db1,db2:5433`), in order.
    package var hosts: [String] {
        (value("host") ?? "").split(separator: ",").map(String.init)
    }

    /// The string with every secret replaced by `***`: safe for logs, errors and metrics.
    package var redacted: String {
        isURL ? redactedURL() : redactedKeywords()
    }

    /// `text` made safe to show, whatever it holds: its redacted form, or a fixed phrase when it
    /// cannot be read (its secret could be anywhere).
    package static func redact(_ text: String) -> String {
        (try? PostgresConnectionString(text))?.redacted ?? "(unreadable connection string)"
    }

    /// The `dbname` of a connection string (keyword form, or a URL's path or `dbname` parameter);
    /// nil when it names none (libpq then uses the user's name) or cannot be read.
    package static func databaseName(_ string: String) -> String? {
        guard let name = (try? PostgresConnectionString(string))?.value("dbname"), !name.isEmpty else { return nil }
        return name
    }

    /// This connection string with `key` set to `value` (replacing what was given), in the same form.
    package func setting(_ key: String, to value: String) -> String {
        if isURL {
            let separator = text.contains("?") ? "&" : "?"
            return text + separator + Self.percentEncode(key) + "=" + Self.percentEncode(value)
        }
        return text + " " + key + "=" + Self.quote(value)
    }

    // MARK: key=value

    private mutating func parseKeywords(_ text: String) throws(PostgresConnectionStringError) {
        var characters = Array(text.unicodeScalars)[...]
        func skipSpace() {
            while let first = characters.first, first == " " || first == "\t" || first == "\n" || first == "\r" { characters.removeFirst() }
        }
        while true {
            skipSpace()
            guard !characters.isEmpty else { break }
            var key = ""
            while let first = characters.first, first != "=", first != " ", first != "\t", first != "\n", first != "\r" {
                key.unicodeScalars.append(first)
                characters.removeFirst()
            }
            skipSpace()
            guard characters.first == "=" else { throw .missingEquals(key: Self.safeKey(key)) }
            characters.removeFirst()
            skipSpace()
            var value = ""
            if characters.first == "'" {
                characters.removeFirst()
                var closed = false
                while let first = characters.popFirst() {
                    if first == "\\" {
                        guard let escaped = characters.popFirst() else { break }
                        value.unicodeScalars.append(escaped)
                    } else if first == "'" {
                        closed = true
                        break
                    } else {
                        value.unicodeScalars.append(first)
                    }
                }
                guard closed else { throw .unterminatedQuote(key: Self.safeKey(key)) }
            } else {
                while let first = characters.first, first != " ", first != "\t", first != "\n", first != "\r" {
                    characters.removeFirst()
                    if first == "\\", let escaped = characters.popFirst() {
                        value.unicodeScalars.append(escaped)
                    } else {
                        value.unicodeScalars.append(first)
                    }
                }
            }
            guard !key.isEmpty else { throw .emptyKey }
            settings.append((key.lowercased(), value))
        }
    }

    private func redactedKeywords() -> String {
        settings.map { key, value in
            "\(key)=\(Self.secretKeys.contains(key) ? Self.mask : Self.quote(Self.shown(key, value)))"
        }.joined(separator: " ")
    }

    /// A value as libpq reads it back: quoted when empty or holding a space, quote or backslash.
    private static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "'" || $0 == "\\" || $0.isWhitespace }
        if plain { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    // MARK: URL

    /// The URL's parts as written (still percent-encoded), for the redacted form.
    private var urlUser: String?
    private var urlNetloc = ""
    private var urlPath: String?
    private var urlQuery: [(key: String, value: String)] = []
    private var scheme = ""

    private mutating func parseURL(_ text: String) throws(PostgresConnectionStringError) {
        guard let schemeEnd = text.range(of: "://") else { throw .notAURL }
        scheme = String(text[..<schemeEnd.lowerBound])
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        // userinfo ends at the last '@' (a password should percent-encode '@' and '/', but one that
        // does not must still never be read as a host or a database name, nor shown).
        var userinfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        if let slash = rest.firstIndex(of: "/") {
            urlPath = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        if let userinfo {
            if let colon = userinfo.firstIndex(of: ":") {
                urlUser = String(userinfo[..<colon])
                urlPassword = try Self.percentDecode(userinfo[userinfo.index(after: colon)...])
            } else {
                urlUser = String(userinfo)
            }
            if let user = urlUser, !user.isEmpty { settings.append(("user", try Self.percentDecode(Substring(user)))) }
        }
        urlNetloc = String(rest)
        var hosts: [String] = []
        var ports: [String] = []
        for hostPort in rest.split(separator: ",", omittingEmptySubsequences: false) {
            var host = hostPort
            var port: Substring = ""
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { throw .malformedHost }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") { port = after.dropFirst() } else if !after.isEmpty { throw .malformedHost }
                host = host[host.index(after: host.startIndex)..<close]
            } else if let colon = host.lastIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            hosts.append(try Self.percentDecode(host))
            ports.append(try Self.percentDecode(port))
        }
        if hosts.contains(where: { !$0.isEmpty }) { settings.append(("host", hosts.joined(separator: ","))) }
        if ports.contains(where: { !$0.isEmpty }) { settings.append(("port", ports.joined(separator: ","))) }
        if let path = urlPath, !path.isEmpty { settings.append(("dbname", try Self.percentDecode(Substring(path)))) }
        if let query {
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: "=") else { throw .missingEquals(key: Self.safeKey(String(pair))) }
                let key = try Self.percentDecode(pair[..<equals]).lowercased()
                let value = try Self.percentDecode(pair[pair.index(after: equals)...])
                guard !key.isEmpty else { throw .emptyKey }
                settings.append((key, value))
                urlQuery.append((key, String(pair[pair.index(after: equals)...])))
            }
        }
    }

    private func redactedURL() -> String {
        var result = scheme + "://"
        if let urlUser {
            result += urlUser
            if urlPassword != nil { result += ":" + Self.mask }
            result += "@"
        }
        result += urlNetloc
        if let urlPath {
            let name = Self.decoded(urlPath)
            result += "/" + (Self.nested(name) != nil ? Self.percentEncode(Self.redact(name)) : urlPath)
        }
        if !urlQuery.isEmpty {
            result += "?" + urlQuery.map { key, value in
                "\(Self.percentEncode(key))=\(Self.secretKeys.contains(key) ? Self.mask : key == "dbname" && Self.nested(Self.decoded(value)) != nil ? Self.percentEncode(Self.shown(key, Self.decoded(value))) : value)"
            }.joined(separator: "&")
        }
        return result
    }

    /// A dbname that libpq expands into a connection string of its own (it holds '=' or is a URL);
    /// nil for a plain name. One that cannot be read is treated as one whose secret is unknown.
    private static func nested(_ value: String) -> PostgresConnectionString? {
        guard value.contains("=") || value.hasPrefix("postgresql://") || value.hasPrefix("postgres://") else { return nil }
        return (try? PostgresConnectionString(value)) ?? (try? PostgresConnectionString("password=unreadable"))
    }

    /// A value as it may be shown: a dbname that is itself a connection string, redacted.
    private static func shown(_ key: String, _ value: String) -> String {
        guard key == "dbname", nested(value) != nil else { return value }
        return redact(value)
    }

    private static func decoded(_ text: String) -> String {
        (try? percentDecode(Substring(text))) ?? "password=unreadable"
    }

    private static func percentDecode(_ text: Substring) throws(PostgresConnectionStringError) -> String {
        guard text.contains("%") else { return String(text) }
        guard let decoded = String(text).removingPercentEncoding else { throw .badPercentEncoding }
        return decoded
    }

    private static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~*")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A key for a message: only if it looks like a keyword (so that a value mistaken for a key is
    /// never shown).
    private static func safeKey(_ key: String) -> String {
        let keyword = !key.isEmpty && key.count <= 40 && key.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || $0 == "_" }
        return keyword ? key : "(a setting)"
    }

    package static func == (lhs: PostgresConnectionString, rhs: PostgresConnectionString) -> Bool { lhs.text == rhs.text }
    package func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// Why a connection string cannot be read; the description never quotes it.
package enum PostgresConnectionStringError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingEquals(key: String)
    case unterminatedQuote(key: String)
    case emptyKey
    case notAURL
    case malformedHost
    case badPercentEncoding

    package var description: String {
        switch self {
        case .missingEquals(let key): "\(key) has no '=' (write key=value pairs, or a postgresql:// URL)"
        case .unterminatedQuote(let key): "the value of \(key) opens a quote (') that does not close"
        case .emptyKey: "a setting has no name before its '='"
        case .notAURL: "not a postgresql:// URL"
        case .malformedHost: "a host in the URL is malformed (an IPv6 address goes in [brackets])"
        case .badPercentEncoding: "the URL holds a % that is not followed by two hexadecimal digits"
        }
    }
}
