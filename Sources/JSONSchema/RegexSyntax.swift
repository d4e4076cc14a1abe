/// The syntax tree of an ECMA-262 regular expression (`u` flag), as `ECMARegexParser`
/// builds it. `RegexAutomaton` runs most patterns directly; `ICURegexWriter` spells the
/// rest for `NSRegularExpression`.
indirect enum RegexNode: Sendable {
    case empty
    case scalars(ScalarSet)
    case sequence([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, minimum: Int, maximum: Int?, greedy: Bool)
    case group(RegexNode, name: String?, capturing: Bool)
    case startAnchor
    case endAnchor
    case wordBoundary(negated: Bool)
    case lookaround(RegexNode, ahead: Bool, negated: Bool)
    case backReference(Int)
    case namedBackReference(String)
}

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

/// A `\p{…}` property: a general category or a few binary properties the standard library
/// knows; anything else (scripts, for instance) is left to ICU by name.
struct UnicodeProperty: Sendable {
    enum Kind: Sendable {
        case categories([Unicode.GeneralCategory])
        case alphabetic
        case whiteSpace
        case any
        case ascii
        case other
    }

    /// The name as written, for ICU.
    var name: String
    var kind: Kind

    init(name: String) {
        self.name = name
        kind = Self.kinds[name] ?? .other
    }

    var isSupported: Bool {
        if case .other = kind { return false }
        return true
    }

    func contains(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        switch kind {
        case .categories(let categories): return categories.contains(scalar.properties.generalCategory)
        case .alphabetic: return scalar.properties.isAlphabetic
        case .whiteSpace: return scalar.properties.isWhitespace
        case .any: return true
        case .ascii: return value < 0x80
        case .other: return false
        }
    }

    private static let kinds: [String: Kind] = {
        typealias C = Unicode.GeneralCategory
        let groups: [([String], [C])] = [
            (["L", "Letter"], [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]),
            (["LC", "Cased_Letter"], [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]),
            (["Lu", "Uppercase_Letter"], [.uppercaseLetter]),
            (["Ll", "Lowercase_Letter"], [.lowercaseLetter]),
            (["Lt", "Titlecase_Letter"], [.titlecaseLetter]),
            (["Lm", "Modifier_Letter"], [.modifierLetter]),
            (["Lo", "Other_Letter"], [.otherLetter]),
            (["M", "Mark", "Combining_Mark"], [.nonspacingMark, .spacingMark, .enclosingMark]),
            (["Mn", "Nonspacing_Mark"], [.nonspacingMark]),
            (["Mc", "Spacing_Mark"], [.spacingMark]),
            (["Me", "Enclosing_Mark"], [.enclosingMark]),
            (["N", "Number"], [.decimalNumber, .letterNumber, .otherNumber]),
            (["Nd", "Decimal_Number", "digit"], [.decimalNumber]),
            (["Nl", "Letter_Number"], [.letterNumber]),
            (["No", "Other_Number"], [.otherNumber]),
            (["P", "Punctuation", "punct"], [.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                                            .initialPunctuation, .finalPunctuation, .otherPunctuation]),
            (["Pc", "Connector_Punctuation"], [.connectorPunctuation]),
            (["Pd", "Dash_Punctuation"], [.dashPunctuation]),
            (["Ps", "Open_Punctuation"], [.openPunctuation]),
            (["Pe", "Close_Punctuation"], [.closePunctuation]),
            (["Pi", "Initial_Punctuation"], [.initialPunctuation]),
            (["Pf", "Final_Punctuation"], [.finalPunctuation]),
            (["Po", "Other_Punctuation"], [.otherPunctuation]),
            (["S", "Symbol"], [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol]),
            (["Sm", "Math_Symbol"], [.mathSymbol]),
            (["Sc", "Currency_Symbol"], [.currencySymbol]),
            (["Sk", "Modifier_Symbol"], [.modifierSymbol]),
            (["So", "Other_Symbol"], [.otherSymbol]),
            (["Z", "Separator"], [.spaceSeparator, .lineSeparator, .paragraphSeparator]),
            (["Zs", "Space_Separator"], [.spaceSeparator]),
            (["Zl", "Line_Separator"], [.lineSeparator]),
            (["Zp", "Paragraph_Separator"], [.paragraphSeparator]),
            (["C", "Other"], [.control, .format, .surrogate, .privateUse, .unassigned]),
            (["Cc", "Control", "cntrl"], [.control]),
            (["Cf", "Format"], [.format]),
            (["Cs", "Surrogate"], [.surrogate]),
            (["Co", "Private_Use"], [.privateUse]),
            (["Cn", "Unassigned"], [.unassigned]),
        ]
        var table: [String: Kind] = [:]
        for (names, categories) in groups {
            for name in names {
                table[name] = .categories(categories)
                table["General_Category=" + name] = .categories(categories)
                table["gc=" + name] = .categories(categories)
            }
        }
        table["Alphabetic"] = .alphabetic
        table["Alpha"] = .alphabetic
        table["White_Space"] = .whiteSpace
        table["space"] = .whiteSpace
        table["Any"] = .any
        table["ASCII"] = .ascii
        return table
    }()
}
