extension FormatChecks {
    private static let subDelims = Set("!$&'()*+,;=".utf8)

    @inline(__always)
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
    }

    /// Whether `bytes` are all of `allowed` characters or `%HH` escapes.
    private static func isEncoded(_ bytes: ArraySlice<UInt8>, _ allowed: (UInt8) -> Bool) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) else { return false }
                index += 3
            } else {
                guard allowed(bytes[index]) else { return false }
                index += 1
            }
        }
        return true
    }

    private static func isPathCharacter(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || subDelims.contains(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "/")
    }

    private static func isQueryCharacter(_ byte: UInt8) -> Bool {
        isPathCharacter(byte) || byte == UInt8(ascii: "?")
    }

    /// RFC 3986 authority: `[userinfo@]host[:port]`.
    private static func isAuthority(_ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes
        if let at = rest.firstIndex(of: UInt8(ascii: "@")) {
            guard isEncoded(rest[..<at], { isUnreserved($0) || subDelims.contains($0) || $0 == UInt8(ascii: ":") }) else { return false }
            rest = rest[(at + 1)...]
        }
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = rest[(rest.startIndex + 1)..<close]
            if literal.first == UInt8(ascii: "v") || literal.first == UInt8(ascii: "V") {
                guard let dot = literal.firstIndex(of: UInt8(ascii: ".")), dot > literal.startIndex + 1,
                      literal[(literal.startIndex + 1)..<dot].allSatisfy(isHexDigit), dot + 1 < literal.endIndex,
                      literal[(dot + 1)...].allSatisfy({ isUnreserved($0) || subDelims.contains($0) || $0 == UInt8(ascii: ":") })
                else { return false }
            } else if !isIPv6(literal) {
                return false
            }
            rest = rest[(close + 1)...]
            guard rest.isEmpty || rest.first == UInt8(ascii: ":") else { return false }
            return rest.dropFirst().allSatisfy(isDigit)
        }
        if let colon = rest.lastIndex(of: UInt8(ascii: ":")) {
            guard rest[(colon + 1)...].allSatisfy(isDigit) else { return false }
            rest = rest[..<colon]
        }
        return isEncoded(rest, { isUnreserved($0) || subDelims.contains($0) })
    }

    /// RFC 3986 URI (`requireScheme`) or URI-reference. ASCII only: IRIs are another format.
    static func isURI(_ string: String, requireScheme: Bool) -> Bool {
        let bytes = Array(string.utf8)
        var rest = bytes[...]
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            guard isEncoded(rest[(hash + 1)...], isQueryCharacter) else { return false }
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            guard isEncoded(rest[(question + 1)...], isQueryCharacter) else { return false }
            rest = rest[..<question]
        }
        let firstSlash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        if let colon = rest[..<firstSlash].firstIndex(of: UInt8(ascii: ":")) {
            // A colon before any slash ends a scheme; in a relative reference it is not allowed.
            let scheme = rest[..<colon]
            guard let first = scheme.first, isAlpha(first),
                  scheme.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
            else { return false }
            rest = rest[(colon + 1)...]
        } else if requireScheme {
            return false
        }
        if rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) {
            let authorityStart = rest.startIndex + 2
            let authorityEnd = rest[authorityStart...].firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            guard isAuthority(rest[authorityStart..<authorityEnd]) else { return false }
            rest = rest[authorityEnd...]
        }
        return isEncoded(rest, isPathCharacter)
    }
}
