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
