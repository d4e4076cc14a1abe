import Foundation

/// What refex may say about a libpq connection string: its database name, never the rest.
package enum PostgresConnectionString {
    /// The `dbname` of a keyword/value string, or the path of a `postgresql://` URL; nil when
    /// it names none (libpq then uses the user's name).
    package static func databaseName(_ string: String) -> String? {
        if let scheme = ["postgresql://", "postgres://"].first(where: string.hasPrefix) {
            // By hand: URLComponents refuses libpq's several hosts (`db1:5432,db2:5432`).
            let rest = string.dropFirst(scheme.count)
            let (beforeQuery, query) = rest.firstIndex(of: "?").map { (rest[..<$0], rest[rest.index(after: $0)...]) } ?? (rest, "")
            for item in query.split(separator: "&") where item.hasPrefix("dbname=") {
                return String(item.dropFirst("dbname=".count)).removingPercentEncoding
            }
            // After the user and password (even one with an unescaped '/'), never inside them.
            let hosts = beforeQuery.lastIndex(of: "@").map { beforeQuery[beforeQuery.index(after: $0)...] } ?? beforeQuery
            guard let slash = hosts.firstIndex(of: "/") else { return nil }
            let path = hosts[hosts.index(after: slash)...]
            return path.isEmpty ? nil : String(path).removingPercentEncoding
        }
        // keyword = value pairs, values optionally single-quoted.
        var scanner = Substring(string)
        while let equals = scanner.firstIndex(of: "=") {
            let keyword = scanner[..<equals].trimmingCharacters(in: .whitespaces)
            var rest = scanner[scanner.index(after: equals)...].drop { $0 == " " }
            var value = ""
            if rest.first == "'" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false } else if character == "\\" { escaped = true } else if character == "'" { break } else { value.append(character) }
                }
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            if keyword == "dbname" { return value.isEmpty ? nil : value }
            scanner = rest
        }
        return nil
    }
}
