import Foundation
/// A fragment of HTML. Built by interpolation: a `String` interpolated is escaped as element text,
/// `\(attribute:)` as a double-quoted attribute value, another `HTML` is inserted as it is. The
/// literal parts are the console's own markup, never data.
///
/// ```swift
/// let row: HTML = "<td title=\"\(attribute: id)\">\(name)</td>"
/// ```
package struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    package private(set) var markup: String

    package init(stringLiteral markup: String) { self.markup = markup }

    package init(stringInterpolation: StringInterpolation) { markup = stringInterpolation.markup }

    /// Nothing.
    package static let empty: HTML = ""

    package var description: String { markup }

    /// `text` escaped as element content.
    package init(text: String) { markup = Escape.text(text) }

    /// The fragments one after another.
    package init(joining parts: [HTML], separator: HTML = "") {
        markup = parts.map(\.markup).joined(separator: separator.markup)
    }

    package static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(joining: [lhs, rhs]) }

    package static func += (lhs: inout HTML, rhs: HTML) { lhs.markup += rhs.markup }

    package struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var markup = ""

        package init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity + 16 * interpolationCount) }

        package mutating func appendLiteral(_ literal: String) { markup += literal }

        /// Element text, escaped.
        package mutating func appendInterpolation(_ text: String) { markup += Escape.text(text) }

        /// Element text, escaped; nothing for nil.
        package mutating func appendInterpolation(_ text: String?) { if let text { markup += Escape.text(text) } }

        /// A number.
        package mutating func appendInterpolation<Number: BinaryInteger>(_ number: Number) { markup += String(number) }

        /// A double-quoted attribute's value, escaped.
        package mutating func appendInterpolation(attribute value: String) { markup += Escape.attribute(value) }

        /// A console URL (made of escaped path segments and query components) as an attribute value.
        package mutating func appendInterpolation(_ url: ConsoleURL) { markup += Escape.attribute(url.text) }

        /// Markup already built.
        package mutating func appendInterpolation(_ html: HTML) { markup += html.markup }

        package mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { markup += part.markup } }
    }
}

/// The escaping functions, one per context the console writes data into.
package enum Escape {
    /// Element content: `& < > " '` as character references; characters that would change how the
    /// text reads or is parsed (NUL and other controls, bidirectional overrides and isolates) made
    /// visible as `[U+202E]`, so that a value renders inert and readable.
    package static func text(_ value: String) -> String {
        isPlain(value) ? value : escaped(value, whitespaceAsReferences: false)
    }

    /// A double-quoted attribute value: as text, and tab, line feed and carriage return as
    /// character references too (so that a value keeps its shape in `title`).
    package static func attribute(_ value: String) -> String {
        if isPlain(value) && !value.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return value }
        return escaped(value, whitespaceAsReferences: true)
    }

    private static func escaped(_ value: String, whitespaceAsReferences: Bool) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t" where whitespaceAsReferences: out += "&#9;"
            case "\n" where whitespaceAsReferences: out += "&#10;"
            case "\r" where whitespaceAsReferences: out += "&#13;"
            default:
                if let shown = visible(scalar) { out += shown } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// A URL path segment or query component: every byte but RFC 3986's unreserved characters
    /// percent-encoded, so that no value can end the segment, start a query, or name a scheme.
    package static func urlComponent(_ value: String) -> String {
        if value.utf8.allSatisfy(isUnreserved) { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count)
        let hex = Array("0123456789ABCDEF")
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// Text for a CSV cell is `CSVFormat.field`; SVG text is element text (`text`).

    /// RFC 3986 §2.3's unreserved characters.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// Whether `value` needs nothing done in text: printable ASCII (and tab, line feed, carriage
    /// return) without `& < > " '`. Anything beyond ASCII takes the careful path.
    static func isPlain(_ value: String) -> Bool {
        func plain(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x20...0x7E: byte != 0x26 && byte != 0x3C && byte != 0x3E && byte != 0x22 && byte != 0x27
            case 0x09, 0x0A, 0x0D: true
            default: false
            }
        }
        if let answer = value.utf8.withContiguousStorageIfAvailable({ $0.allSatisfy(plain) }) { return answer }
        return value.utf8.allSatisfy(plain)
    }

    /// Controls (but tab, line feed and carriage return in text) and bidirectional formatting
    /// characters, as `[U+XXXX]`; nil for anything else.
    static func visible(_ scalar: Unicode.Scalar) -> String? {
        let value = scalar.value
        let isControl = (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || (0x7F...0x9F).contains(value)
        let isBidi = value == 0x061C || value == 0x200E || value == 0x200F || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
        let isOther = value == 0xFEFF || (0x2028...0x2029).contains(value)
        guard isControl || isBidi || isOther else { return nil }
        let digits = String(value, radix: 16, uppercase: true)
        return "[U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "]"
    }
}

/// A URL inside the console: fixed path parts and escaped values, so that no value can change
/// what it points at.
package struct ConsoleURL: Sendable, Hashable, CustomStringConvertible {
    package private(set) var text: String

    /// `/console/` and the segments, each escaped (`ConsoleURL(["subjects", id])`).
    package init(_ segments: [String], query: [(String, String)] = [], trailingSlash: Bool = false) {
        var text = "/console/"
        for (index, segment) in segments.enumerated() {
            if index > 0 { text += "/" }
            text += Escape.urlComponent(segment)
        }
        if trailingSlash && !segments.isEmpty { text += "/" }
        var separator = "?"
        for (name, value) in query where !value.isEmpty {
            text += separator
            text += Escape.urlComponent(name)
            text += "="
            text += Escape.urlComponent(value)
            separator = "&"
        }
        self.text = text
    }

    package var description: String { text }

    package static let overview = ConsoleURL([])
    package static let log = ConsoleURL(["log"])
    package static let overrides = ConsoleURL(["overrides"])
    package static let charts = ConsoleURL(["charts"])
    package static let partners = ConsoleURL(["partners"])
    package static let verify = ConsoleURL(["verify"])
    package static let stylesheet = ConsoleURL(["static", "console.css"])

    package static func entry(_ seq: Int64) -> ConsoleURL { ConsoleURL(["log", String(seq)]) }
    package static func subject(_ id: String) -> ConsoleURL { ConsoleURL(["subjects", id]) }
    package static func subjectAction(_ id: String, _ action: String) -> ConsoleURL { ConsoleURL(["subjects", id, action]) }
    package static func reveal(subject: String, referral: String) -> ConsoleURL {
        ConsoleURL(["subjects", subject, "referrals", referral, "reveal"])
    }
}
