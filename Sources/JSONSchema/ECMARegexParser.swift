/// Parses an ECMA-262 regular expression with the `u` flag (what JSON Schema asks for) into
/// a `RegexNode` tree, refusing what that grammar refuses: unknown escapes such as `\a`,
/// inline flags `(?i)`, Python's `(?P<name>…)`, lone `{`, `}` or `]`, back references to
/// missing groups.
struct ECMARegexParser {
    /// Why a pattern is not an ECMA-262 regular expression.
    struct SyntaxError: Error {
        var message: String
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var groupCount = 0
    private var groupNames: Set<String> = []
    private var backReferences: [Int] = []
    private var namedBackReferences: [String] = []
    private var depth = 0

    /// Nesting of groups beyond this is refused (the parser recurses per group).
    private static let maxDepth = 100

    private init(_ pattern: String) {
        scalars = Array(pattern.unicodeScalars)
    }

    /// The tree for `pattern`, or why it is not valid.
    static func parse(_ pattern: String) -> Result<RegexNode, SyntaxError> {
        var parser = ECMARegexParser(pattern)
        do {
            return .success(try parser.parsePattern())
        } catch {
            return .failure(error)
        }
    }

    private var atEnd: Bool { position >= scalars.count }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private func error(_ message: String) -> SyntaxError {
        SyntaxError(message: "\(message) at character \(position + 1)")
    }

    private mutating func parsePattern() throws(SyntaxError) -> RegexNode {
        let node = try parseDisjunction()
        guard atEnd else { throw error("unmatched ')'") }
        for reference in backReferences where reference > groupCount {
            throw SyntaxError(message: "back reference \\\(reference) to a group that does not exist")
        }
        for name in namedBackReferences where !groupNames.contains(name) {
            throw SyntaxError(message: "back reference to an unknown group name '\(name)'")
        }
        return node
    }

    private mutating func parseDisjunction() throws(SyntaxError) -> RegexNode {
        var alternatives = [try parseAlternative()]
        while peek() == "|" {
            position += 1
            alternatives.append(try parseAlternative())
        }
        return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
    }

    private mutating func parseAlternative() throws(SyntaxError) -> RegexNode {
        var terms: [RegexNode] = []
        while let scalar = peek(), scalar != "|", scalar != ")" {
            terms.append(try parseTerm())
        }
        switch terms.count {
        case 0: return .empty
        case 1: return terms[0]
        default: return .sequence(terms)
        }
    }

    private mutating func parseTerm() throws(SyntaxError) -> RegexNode {
        guard let scalar = peek() else { return .empty }
        var quantifiable = true
        var atom: RegexNode
        switch scalar {
        case "^":
            position += 1
            atom = .startAnchor
            quantifiable = false
        case "$":
            position += 1
            atom = .endAnchor
            quantifiable = false
        case "\\" where peek(1) == "b" || peek(1) == "B":
            atom = .wordBoundary(negated: peek(1) == "B")
            position += 2
            quantifiable = false
        case "(":
            (atom, quantifiable) = try parseGroup()
        case ".":
            position += 1
            atom = .scalars(ScalarSet.dot)
        case "[":
            atom = .scalars(try parseClass())
        case "\\":
            atom = try parseAtomEscape()
        case "*", "+", "?", "{":
            throw error("nothing to repeat")
        case "]", "}":
            throw error("unescaped '\(scalar)'")
        default:
            position += 1
            atom = .scalars(.scalar(scalar.value))
        }
        if let next = peek(), next == "*" || next == "+" || next == "?" || next == "{" {
            guard quantifiable else { throw error("an assertion cannot be repeated") }
            atom = try parseQuantifier(atom)
        }
        return atom
    }

    /// Parses `(…)`; returns the node and whether it may take a quantifier (lookarounds may not).
    private mutating func parseGroup() throws(SyntaxError) -> (RegexNode, Bool) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("groups nested too deeply") }
        position += 1
        enum Kind {
            case capturing(String?)
            case nonCapturing
            case lookaround(ahead: Bool, negated: Bool)
        }
        var kind = Kind.capturing(nil)
        if peek() == "?" {
            switch (peek(1), peek(2)) {
            case (":", _):
                position += 2
                kind = .nonCapturing
            case ("=", _), ("!", _):
                kind = .lookaround(ahead: true, negated: peek(1) == "!")
                position += 2
            case ("<", "="), ("<", "!"):
                kind = .lookaround(ahead: false, negated: peek(2) == "!")
                position += 3
            case ("<", _):
                position += 2
                let name = try parseGroupName()
                guard groupNames.insert(name).inserted else { throw error("duplicate group name '\(name)'") }
                kind = .capturing(name)
            default:
                throw error("invalid group: '(?' must be followed by ':', '=', '!', '<=', '<!' or '<name>'")
            }
        }
        if case .capturing = kind { groupCount += 1 }
        let inner = try parseDisjunction()
        guard peek() == ")" else { throw error("missing ')'") }
        position += 1
        switch kind {
        case .capturing(let name): return (.group(inner, name: name, capturing: true), true)
        case .nonCapturing: return (.group(inner, name: nil, capturing: false), true)
        case .lookaround(let ahead, let negated): return (.lookaround(inner, ahead: ahead, negated: negated), false)
        }
    }

    /// Parses `name>` after `(?<` or `\k<`. ICU accepts ASCII letters and digits only.
    private mutating func parseGroupName() throws(SyntaxError) -> String {
        var name = ""
        while let scalar = peek(), scalar != ">" {
            let isLetter = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
            let isDigit = scalar >= "0" && scalar <= "9"
            guard isLetter || (isDigit && !name.isEmpty) else { throw error("unsupported character in a group name") }
            name.unicodeScalars.append(scalar)
            position += 1
        }
        guard peek() == ">", !name.isEmpty else { throw error("unterminated group name") }
        position += 1
        return name
    }

    private mutating func parseQuantifier(_ atom: RegexNode) throws(SyntaxError) -> RegexNode {
        guard let scalar = peek() else { return atom }
        var minimum = 0
        var maximum: Int?
        switch scalar {
        case "*": position += 1
        case "+": position += 1; minimum = 1
        case "?": position += 1; maximum = 1
        default:
            position += 1
            guard let low = parseDecimal() else { throw error("invalid '{' quantifier") }
            minimum = low
            maximum = low
            if peek() == "," {
                position += 1
                maximum = parseDecimal()
                if let high = maximum, high < low { throw error("numbers out of order in a '{}' quantifier") }
            }
            guard peek() == "}" else { throw error("invalid '{' quantifier") }
            position += 1
        }
        var greedy = true
        if peek() == "?" {
            position += 1
            greedy = false
        }
        if let next = peek(), next == "*" || next == "+" || next == "?" || next == "{" {
            throw error("nothing to repeat")
        }
        return .repetition(atom, minimum: minimum, maximum: maximum, greedy: greedy)
    }

    private mutating func parseDecimal() -> Int? {
        var value: Int?
        while let scalar = peek(), scalar >= "0", scalar <= "9" {
            value = min((value ?? 0) * 10 + Int(scalar.value - 48), 1_000_000)
            position += 1
        }
        return value
    }

    private mutating func parseAtomEscape() throws(SyntaxError) -> RegexNode {
        position += 1
        guard let scalar = peek() else { throw error("'\\' at the end of the pattern") }
        switch scalar {
        case "d", "D", "w", "W", "s", "S":
            position += 1
            return .scalars(Self.classEscape(scalar))
        case "p", "P":
            return .scalars(ScalarSet(items: [try parsePropertyEscape()], negated: false))
        case "1"..."9":
            guard let number = parseDecimal() else { throw error("invalid back reference") }
            backReferences.append(number)
            return .backReference(number)
        case "k":
            position += 1
            guard peek() == "<" else { throw error("'\\k' must be followed by '<name>'") }
            position += 1
            let name = try parseGroupName()
            namedBackReferences.append(name)
            return .namedBackReference(name)
        default:
            return .scalars(.scalar(try parseCharacterEscape(inClass: false)))
        }
    }

    private static func classEscape(_ letter: Unicode.Scalar) -> ScalarSet {
        switch letter {
        case "d": ScalarSet(items: ScalarSet.digitRanges, negated: false)
        case "D": ScalarSet(items: ScalarSet.digitRanges, negated: true)
        case "w": ScalarSet(items: ScalarSet.wordRanges, negated: false)
        case "W": ScalarSet(items: ScalarSet.wordRanges, negated: true)
        case "s": ScalarSet(items: ScalarSet.spaceRanges, negated: false)
        default: ScalarSet(items: ScalarSet.spaceRanges, negated: true)
        }
    }

    /// `\p{…}` or `\P{…}`.
    private mutating func parsePropertyEscape() throws(SyntaxError) -> ScalarSet.Item {
        let negated = peek() == "P"
        position += 1
        guard peek() == "{" else { throw error("'\\p' must be followed by '{'") }
        position += 1
        var name = ""
        while let scalar = peek(), scalar != "}" {
            let allowed = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") || scalar == "_" || scalar == "="
            guard allowed else { throw error("invalid Unicode property name") }
            name.unicodeScalars.append(scalar)
            position += 1
        }
        guard peek() == "}", !name.isEmpty else { throw error("unterminated Unicode property escape") }
        position += 1
        return .property(UnicodeProperty(name: name), negated: negated)
    }

    /// A character escape after the backslash; returns the scalar value it denotes.
    private mutating func parseCharacterEscape(inClass: Bool) throws(SyntaxError) -> UInt32 {
        guard let scalar = peek() else { throw error("'\\' at the end of the pattern") }
        position += 1
        switch scalar {
        case "f": return 0x0C
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "v": return 0x0B
        case "b" where inClass: return 0x08
        case "-" where inClass: return 0x2D
        case "c":
            guard let letter = peek(), (letter >= "a" && letter <= "z") || (letter >= "A" && letter <= "Z") else {
                throw error("'\\c' must be followed by a letter")
            }
            position += 1
            return letter.value % 32
        case "0":
            if let next = peek(), next >= "0", next <= "9" { throw error("invalid octal escape") }
            return 0
        case "x":
            guard let value = parseHex(count: 2) else { throw error("'\\x' must be followed by two hex digits") }
            return value
        case "u":
            if peek() == "{" {
                position += 1
                var value: UInt32 = 0
                var digits = 0
                while let digit = peek(), let nibble = Self.hexValue(digit) {
                    value = value * 16 + nibble
                    digits += 1
                    position += 1
                    if value > 0x10FFFF { throw error("code point out of range") }
                }
                guard digits > 0, peek() == "}", Unicode.Scalar(value) != nil else { throw error("invalid '\\u{…}' escape") }
                position += 1
                return value
            }
            guard let high = parseHex(count: 4) else { throw error("'\\u' must be followed by four hex digits") }
            if high >= 0xD800, high <= 0xDBFF, peek() == "\\", peek(1) == "u" {
                let save = position
                position += 2
                if let low = parseHex(count: 4), low >= 0xDC00, low <= 0xDFFF {
                    return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                }
                position = save
            }
            guard Unicode.Scalar(high) != nil else { throw error("lone surrogate escapes are not supported") }
            return high
        case "^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/":
            return scalar.value
        default:
            position -= 1
            throw error("invalid escape '\\\(scalar)'")
        }
    }

    private mutating func parseHex(count: Int) -> UInt32? {
        var value: UInt32 = 0
        for offset in 0..<count {
            guard let scalar = peek(offset), let nibble = Self.hexValue(scalar) else { return nil }
            value = value * 16 + nibble
        }
        position += count
        return value
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 48
        case "a"..."f": scalar.value - 87
        case "A"..."F": scalar.value - 55
        default: nil
        }
    }

    private enum ClassAtom {
        case scalar(UInt32)
        case set(ScalarSet.Item)
    }

    private mutating func parseClass() throws(SyntaxError) -> ScalarSet {
        position += 1
        var set = ScalarSet(items: [], negated: false)
        if peek() == "^" {
            set.negated = true
            position += 1
        }
        while true {
            guard let scalar = peek() else { throw error("missing ']'") }
            if scalar == "]" {
                position += 1
                return set
            }
            let first = try parseClassAtom()
            if peek() == "-", let after = peek(1), after != "]" {
                position += 1
                let second = try parseClassAtom()
                guard case .scalar(let low) = first, case .scalar(let high) = second else {
                    throw error("a character class escape cannot bound a range")
                }
                guard low <= high else { throw error("range out of order in a character class") }
                set.items.append(.range(low, high))
            } else {
                switch first {
                case .scalar(let value): set.items.append(.range(value, value))
                case .set(let item): set.items.append(item)
                }
            }
        }
    }

    private mutating func parseClassAtom() throws(SyntaxError) -> ClassAtom {
        guard let scalar = peek() else { throw error("missing ']'") }
        guard scalar == "\\" else {
            position += 1
            return .scalar(scalar.value)
        }
        position += 1
        switch peek() {
        case .some(let letter) where "dDwWsS".unicodeScalars.contains(letter):
            position += 1
            return .set(.nested(Self.classEscape(letter)))
        case "p", "P":
            return .set(try parsePropertyEscape())
        default:
            return .scalar(try parseCharacterEscape(inClass: true))
        }
    }
}
