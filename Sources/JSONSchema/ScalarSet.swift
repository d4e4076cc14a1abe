/// A set of Unicode scalars: a character class, an escape such as `\d`, `.` or a literal.
struct ScalarSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case property(UnicodeProperty, negated: Bool)
        /// The members of another set (which may be negated), e.g. `\D` inside a class.
        case nested(ScalarSet)
    }

    var items: [Item]
    var negated: Bool

    static func scalar(_ value: UInt32) -> ScalarSet {
        ScalarSet(items: [.range(value, value)], negated: false)
    }

    /// ECMA-262 `\d`, `\w`, `\s`: ASCII digits and word characters, and a fixed set of spaces.
    static let digitRanges: [Item] = [.range(0x30, 0x39)]
    static let wordRanges: [Item] = [.range(0x30, 0x39), .range(0x41, 0x5A), .range(0x5F, 0x5F), .range(0x61, 0x7A)]
    static let spaceRanges: [Item] = [
        .range(0x09, 0x0D), .range(0x20, 0x20), .range(0xA0, 0xA0), .range(0x1680, 0x1680), .range(0x2000, 0x200A),
        .range(0x2028, 0x2029), .range(0x202F, 0x202F), .range(0x205F, 0x205F), .range(0x3000, 0x3000), .range(0xFEFF, 0xFEFF),
    ]
    /// `.`: anything but the four ECMA-262 line terminators.
    static let dot = ScalarSet(items: [.range(0x0A, 0x0A), .range(0x0D, 0x0D), .range(0x2028, 0x2029)], negated: true)

    /// Whether the set contains `scalar`.
    func contains(_ scalar: UInt32) -> Bool {
        var found = false
        for item in items {
            switch item {
            case .range(let low, let high):
                found = scalar >= low && scalar <= high
            case .property(let property, let negated):
                found = property.contains(scalar) != negated
            case .nested(let inner):
                found = inner.contains(scalar)
            }
            if found { break }
        }
        return found != negated
    }

    /// Whether every property in the set is one `RegexAutomaton` can test.
    var isSupported: Bool {
        items.allSatisfy { item in
            switch item {
            case .range: true
            case .property(let property, _): property.isSupported
            case .nested(let inner): inner.isSupported
            }
        }
    }
}
