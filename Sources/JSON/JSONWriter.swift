/// Writes JSON text: compact, pretty-printed, or canonical (RFC 8785).
struct JSONWriter {
    enum Style {
        case compact
        case pretty
        case canonical
    }

    let style: Style
    var output: [UInt8] = []

    init(style: Style) {
        self.style = style
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func write(_ value: JSONValue, indent: Int = 0) {
        switch value {
        case .null:
            output.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag):
            output.append(contentsOf: flag ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let number):
            writeNumber(number)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                write(element, indent: indent + 1)
            }
            if !elements.isEmpty { newline(indent) }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            if style == .canonical {
                // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their keys.
                let members = Array(object)
                let order: [Int]
                if members.allSatisfy({ Self.utf8OrderIsUTF16Order($0.key) }) {
                    // Compared as UTF-8 bytes, without a UTF-16 copy of every key.
                    order = members.indices.sorted { members[$0].key.utf8.lexicographicallyPrecedes(members[$1].key.utf8) }
                } else {
                    let sortKeys = members.map { Array($0.key.utf16) }
                    order = sortKeys.indices.sorted { sortKeys[$0].lexicographicallyPrecedes(sortKeys[$1]) }
                }
                for (position, memberIndex) in order.enumerated() {
                    writeMember(members[memberIndex], first: position == 0, indent: indent)
                }
            } else {
                var first = true
                for member in object {
                    writeMember(member, first: first, indent: indent)
                    first = false
                }
            }
            if !object.isEmpty { newline(indent) }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Whether sorting `key` by its UTF-8 bytes sorts it as by its UTF-16 code units: UTF-8 byte
    /// order is code point order, and so is UTF-16's except between U+E000–U+FFFF and the
    /// supplementary planes (surrogates sort below U+E000). A key with neither (no lead byte
    /// 0xEE or above) sorts the same both ways against any other such key.
    static func utf8OrderIsUTF16Order(_ key: String) -> Bool {
        key.utf8.withContiguousStorageIfAvailable { bytes in !bytes.contains { $0 >= 0xEE } }
            ?? !key.utf8.contains { $0 >= 0xEE }
    }

    private mutating func writeMember(_ member: JSONObject.Element, first: Bool, indent: Int) {
        if !first { output.append(UInt8(ascii: ",")) }
        newline(indent + 1)
        writeString(member.key)
        output.append(UInt8(ascii: ":"))
        if style == .pretty { output.append(UInt8(ascii: " ")) }
        write(member.value, indent: indent + 1)
    }

    private mutating func newline(_ indent: Int) {
        guard style == .pretty else { return }
        output.append(0x0A)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private mutating func writeNumber(_ number: JSONNumber) {
        if style == .canonical, case .decimal = number.storage {
            // RFC 8785 §3.2.2.3: the ECMAScript form of the nearest double. A number beyond
            // the double range has none; it keeps its exact form rather than becoming "Infinity".
            if let nearest = JSONNumber(exactly: number.doubleValue) {
                output.append(contentsOf: nearest.description.utf8)
                return
            }
        }
        if style == .canonical, let value = number.int64Value, value.magnitude > 1 << 53 {
            output.append(contentsOf: (JSONNumber(exactly: Double(value)) ?? number).description.utf8)
            return
        }
        output.append(contentsOf: number.description.utf8)
    }

    /// Writes a string with the escaping RFC 8785 prescribes (and compact output uses too):
    /// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as `\u00xx`, everything else as is.
    private mutating func writeString(_ string: String) {
        output.append(UInt8(ascii: "\""))
        let utf8 = string.utf8
        // Nothing to escape (the common case): the bytes are copied straight from the string's storage.
        let copied = utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            output.append(contentsOf: bytes)
            return true
        } ?? false
        if !copied {
            writeEscaping(utf8)
        }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaping(_ utf8: String.UTF8View) {
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            output.append(contentsOf: utf8)
        } else {
            for byte in utf8 {
                switch byte {
                case 0x22: output.append(contentsOf: [0x5C, 0x22])
                case 0x5C: output.append(contentsOf: [0x5C, 0x5C])
                case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0..<0x20:
                    output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                    output.append(Self.hexDigits[Int(byte >> 4)])
                    output.append(Self.hexDigits[Int(byte & 0xF)])
                default: output.append(byte)
                }
            }
        }
    }
}
