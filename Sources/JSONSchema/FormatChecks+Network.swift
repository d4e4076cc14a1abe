extension FormatChecks {
    /// RFC 2673 dotted quad: four decimal octets, no leading zeros, nothing else.
    static func isIPv4(_ string: String) -> Bool {
        isIPv4(Array(string.utf8)[...])
    }

    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(isDigit) else { return false }
            if part.count > 1, part.first == UInt8(ascii: "0") { return false }
            guard let value = Int(String(decoding: part, as: UTF8.self)), value <= 255 else { return false }
        }
        return true
    }

    /// RFC 4291 §2.2 text forms: eight groups of 1–4 hex digits, one `::` for a run of zero
    /// groups, an IPv4 address in place of the last two groups. No zone, no brackets.
    static func isIPv6(_ string: String) -> Bool {
        isIPv6(Array(string.utf8)[...])
    }

    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.count <= 45 else { return false }
        var groups = 0
        var compressed = false
        var index = bytes.startIndex
        if bytes[index] == UInt8(ascii: ":") {
            guard bytes[index + 1] == UInt8(ascii: ":") else { return false }
            compressed = true
            index += 2
            if index == bytes.endIndex { return true }
        }
        while index < bytes.endIndex {
            var end = index
            while end < bytes.endIndex, bytes[end] != UInt8(ascii: ":") { end += 1 }
            let group = bytes[index..<end]
            if end == bytes.endIndex, group.contains(UInt8(ascii: ".")) {
                guard isIPv4(group) else { return false }
                groups += 2
            } else {
                guard (1...4).contains(group.count), group.allSatisfy(isHexDigit) else { return false }
                groups += 1
            }
            if end == bytes.endIndex { break }
            // At a colon: "::" compresses (once), a trailing single colon is invalid.
            index = end + 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") {
                guard !compressed else { return false }
                compressed = true
                index += 1
                if index == bytes.endIndex { break }
            } else if index == bytes.endIndex {
                return false
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    /// RFC 1123 host name of ASCII letter-digit-hyphen labels (1–63 bytes, no hyphen at
    /// either end, 253 bytes in all), where `xn--` labels must be valid IDNA2008 A-labels.
    static func isHostname(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...63).contains(label.count),
                  label.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "-") }),
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            if label.count >= 4, label[label.startIndex + 2] == UInt8(ascii: "-"), label[label.startIndex + 3] == UInt8(ascii: "-") {
                let prefix = String(decoding: label.prefix(2), as: UTF8.self).lowercased()
                guard prefix == "xn", IDNALabel.isValidALabel(String(decoding: label.dropFirst(4), as: UTF8.self)) else { return false }
            }
        }
        return true
    }

    /// RFC 5321 Mailbox: a dot-atom or quoted-string local part (64 bytes at most), `@`, and
    /// a host name or an IPv4 or `IPv6:` address literal.
    static func isEmail(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1 else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard local.count <= 64 else { return false }
        if local.first == UInt8(ascii: "\"") {
            guard local.count >= 2, local.last == UInt8(ascii: "\"") else { return false }
            var index = local.startIndex + 1
            while index < local.endIndex - 1 {
                let byte = local[index]
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < local.endIndex - 1, (32...126).contains(local[index + 1]) else { return false }
                    index += 2
                    continue
                }
                guard byte == 32 || byte == 33 || (35...91).contains(byte) || (93...126).contains(byte) else { return false }
                index += 1
            }
        } else {
            let atext = Set("!#$%&'*+-/=?^_`{|}~".utf8)
            for atom in local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
                guard !atom.isEmpty, atom.allSatisfy({ isAlpha($0) || isDigit($0) || atext.contains($0) }) else { return false }
            }
        }
        if domain.first == UInt8(ascii: "[") {
            guard domain.last == UInt8(ascii: "]") else { return false }
            let literal = domain.dropFirst().dropLast()
            let ipv6Prefix = Array("IPv6:".utf8)
            if literal.starts(with: ipv6Prefix) { return isIPv6(literal.dropFirst(ipv6Prefix.count)) }
            return isIPv4(literal)
        }
        return isHostname(String(decoding: domain, as: UTF8.self))
    }
}
