/// The format checks behind `FormatKind`, on the strict grammars the formats' RFCs define.
/// All work on UTF-8 bytes; none allocates much or backtracks.
enum FormatChecks {
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    @inline(__always)
    static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// The value of `count` decimal digits at `start`, or nil if they are not all digits.
    static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        var value = 0
        for index in start..<(start + count) {
            guard isDigit(bytes[index]) else { return nil }
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
        }
        return value
    }

    /// RFC 4122 text form: 8-4-4-4-12 hexadecimal digits, any version and variant.
    static func isUUID(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard isHexDigit(byte) else { return false }
            }
        }
        return true
    }

    /// RFC 6901: empty, or `/`-prefixed tokens in which `~` is always followed by `0` or `1`.
    static func isJSONPointer(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        return isJSONPointer(bytes[...])
    }

    private static func isJSONPointer(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first else { return true }
        guard first == UInt8(ascii: "/") else { return false }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "~") {
                let next = index + 1
                guard next < bytes.endIndex, bytes[next] == UInt8(ascii: "0") || bytes[next] == UInt8(ascii: "1") else { return false }
                index += 2
            } else {
                index += 1
            }
        }
        return true
    }

    /// draft-handrews-relative-json-pointer: a non-negative integer without leading zeros,
    /// then `#` or a JSON Pointer.
    static func isRelativeJSONPointer(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        var index = 0
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        guard index > 0, !(bytes[0] == UInt8(ascii: "0") && index > 1) else { return false }
        if index == bytes.count - 1, bytes[index] == UInt8(ascii: "#") { return true }
        return isJSONPointer(bytes[index...])
    }
}
