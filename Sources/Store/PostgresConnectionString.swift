import Foundation

/// What refex may say about a libpq connection string: its database name, never the rest.
package enum PostgresConnectionString {
    /// The `dbname` of a keyword/value string, or the path of a `postgresql://` URL; nil when
    /// it names none (libpq then uses the user's name).
    package static func databaseName(_ string: String) -> String? {
        if string.hasPrefix("postgresql://") || string.hasPrefix("postgres://") {
            guard let components = URLComponents(string: string) else { return nil }
            if let name = components.queryItems?.first(where: { $0.name == "dbname" })?.value { return name }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            return path.isEmpty ? nil : path
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
