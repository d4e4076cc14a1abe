/// Checks a pattern against the ECMA-262 regular expression grammar (with the `u` flag,
/// as JSON Schema asks) and translates it to the ICU dialect that `NSRegularExpression`
/// implements, so that both agree on what matches:
///
/// - `\d`, `\w`, `\b` are ASCII-only in ECMA-262 but Unicode-aware in ICU: spelled out.
/// - `\s` is a fixed set in ECMA-262: spelled out.
/// - `$` matches only at the very end in ECMA-262 (ICU also before a final newline): `\z`.
/// - `.` excludes exactly the four ECMA-262 line terminators.
/// - `[]` and `[^]` (never and always match) have no ICU spelling.
/// - Literals are written as `\x{…}` so ICU's extra set syntax (`[:alpha:]`, `&&`) never applies.
struct ECMARegexTranslator {
    /// Why a pattern is not an ECMA-262 regular expression.
    struct SyntaxError: Error {
        var message: String
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var output = ""
    private var groupCount = 0
    private var groupNames: Set<String> = []
    private var backReferences: [Int] = []
    private var namedBackReferences: [String] = []

    private init(_ pattern: String) {
        scalars = Array(pattern.unicodeScalars)
    }

    /// The ICU translation of `pattern`, or a syntax error.
    static func translate(_ pattern: String) -> Result<String, SyntaxError> {
        var translator = ECMARegexTranslator(pattern)
        do {
            try translator.parsePattern()
            return .success(translator.output)
        } catch {
            return .failure(error)
        }
    }

    private static let wordClass = "a-zA-Z0-9_"
    private static let spaceClass = "\\x{09}-\\x{0D}\\x{20}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

    private var atEnd: Bool { position >= scalars.count }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private func error(_ message: String) -> SyntaxError {
        SyntaxError(message: "\(message) at character \(position + 1)")
    }

    private mutating func parsePattern() throws(SyntaxError) {
        try parseDisjunction()
        guard atEnd else { throw error("unmatched ')'") }
        for reference in backReferences where reference > groupCount {
            throw SyntaxError(message: "back reference \\\(reference) to a group that does not exist")
        }
        for name in namedBackReferences where !groupNames.contains(name) {
            throw SyntaxError(message: "back reference to an unknown group name '\(name)'")
        }
    }

    private mutating func parseDisjunction() throws(SyntaxError) {
        try parseAlternative()
        while peek() == "|" {
            position += 1
            output += "|"
            try parseAlternative()
        }
    }

    private mutating func parseAlternative() throws(SyntaxError) {
        while let scalar = peek(), scalar != "|", scalar != ")" {
            try parseTerm()
        }
    }

    private mutating func parseTerm() throws(SyntaxError) {
        guard let scalar = peek() else { return }
        var quantifiable = true
        switch scalar {
        case "^":
            position += 1
            output += "^"
            quantifiable = false
        case "$":
            position += 1
            output += "\\z"
            quantifiable = false
        case "\\" where peek(1) == "b" || peek(1) == "B":
            position += 2
            let word = "[\(Self.wordClass)]"
            output += scalar == "\\" && scalars[position - 1] == "b"
                ? "(?:(?<=\(word))(?!\(word))|(?<!\(word))(?=\(word)))"
                : "(?:(?<=\(word))(?=\(word))|(?<!\(word))(?!\(word)))"
            quantifiable = false
        case "(":
            quantifiable = try parseGroup()
        case ".":
            position += 1
            output += "[^\\x{0A}\\x{0D}\\x{2028}\\x{2029}]"
        case "[":
            try parseClass()
        case "\\":
            try parseAtomEscape()
        case "*", "+", "?", "{":
            throw error("nothing to repeat")
        case "]", "}":
            throw error("unescaped '\(scalar)'")
        default:
            position += 1
            output += Self.literal(scalar)
        }
        if let next = peek(), next == "*" || next == "+" || next == "?" || next == "{" {
            guard quantifiable else { throw error("an assertion cannot be repeated") }
            try parseQuantifier()
        }
    }

    /// Parses `(…)`; returns whether the group may take a quantifier (lookarounds may not).
    private mutating func parseGroup() throws(SyntaxError) -> Bool {
        position += 1
        var quantifiable = true
        if peek() == "?" {
            switch (peek(1), peek(2)) {
            case (":", _):
                position += 2
                output += "(?:"
            case ("=", _), ("!", _):
                output += "(?" + String(Character(scalars[position + 1]))
                position += 2
                quantifiable = false
            case ("<", "="), ("<", "!"):
                output += "(?<" + String(Character(scalars[position + 2]))
                position += 3
                quantifiable = false
            case ("<", _):
                position += 2
                let name = try parseGroupName()
                guard groupNames.insert(name).inserted else { throw error("duplicate group name '\(name)'") }
                groupCount += 1
                output += "(?<\(name)>"
            default:
                throw error("invalid group: '(?' must be followed by ':', '=', '!', '<=', '<!' or '<name>'")
            }
        } else {
            groupCount += 1
            output += "("
        }
        try parseDisjunction()
        guard peek() == ")" else { throw error("missing ')'") }
        position += 1
        output += ")"
        return quantifiable
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

    private mutating func parseQuantifier() throws(SyntaxError) {
        guard let scalar = peek() else { return }
        if scalar == "{" {
            let start = position
            position += 1
            guard let minimum = parseDecimal() else { throw error("invalid '{' quantifier") }
            var text = "{\(minimum)"
            if peek() == "," {
                position += 1
                text += ","
                if let maximum = parseDecimal() {
                    guard maximum >= minimum else { throw error("numbers out of order in a '{}' quantifier") }
                    text += "\(maximum)"
                }
            }
            guard peek() == "}" else {
                position = start
                throw error("invalid '{' quantifier")
            }
            position += 1
            output += text + "}"
        } else {
            position += 1
            output.unicodeScalars.append(scalar)
        }
        if peek() == "?" {
            position += 1
            output += "?"
        }
        if let next = peek(), next == "*" || next == "+" || next == "?" || next == "{" {
            throw error("nothing to repeat")
        }
    }

    private mutating func parseDecimal() -> Int? {
        var value: Int?
        while let scalar = peek(), scalar >= "0", scalar <= "9" {
            value = min((value ?? 0) * 10 + Int(scalar.value - 48), 1_000_000)
            position += 1
        }
        return value
    }

    private mutating func parseAtomEscape() throws(SyntaxError) {
        position += 1
        guard let scalar = peek() else { throw error("'\\' at the end of the pattern") }
        switch scalar {
        case "d": position += 1; output += "[0-9]"
        case "D": position += 1; output += "[^0-9]"
        case "w": position += 1; output += "[\(Self.wordClass)]"
        case "W": position += 1; output += "[^\(Self.wordClass)]"
        case "s": position += 1; output += "[\(Self.spaceClass)]"
        case "S": position += 1; output += "[^\(Self.spaceClass)]"
        case "p", "P": output += try parsePropertyEscape()
        case "1"..."9":
            guard let number = parseDecimal() else { throw error("invalid back reference") }
            backReferences.append(number)
            output += "\\\(number)"
        case "k":
            position += 1
            guard peek() == "<" else { throw error("'\\k' must be followed by '<name>'") }
            position += 1
            let name = try parseGroupName()
            namedBackReferences.append(name)
            output += "\\k<\(name)>"
        default:
            output += Self.literal(try parseCharacterEscape(inClass: false))
        }
    }

    /// `\p{…}` or `\P{…}`; the name is passed to ICU, which knows the ECMA-262 names.
    private mutating func parsePropertyEscape() throws(SyntaxError) -> String {
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
        return "\\\(negated ? "P" : "p"){\(name)}"
    }

    /// A character escape after the backslash; returns the scalar it denotes.
    private mutating func parseCharacterEscape(inClass: Bool) throws(SyntaxError) -> Unicode.Scalar {
        guard let scalar = peek() else { throw error("'\\' at the end of the pattern") }
        position += 1
        switch scalar {
        case "f": return "\u{0C}"
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "v": return "\u{0B}"
        case "b" where inClass: return "\u{08}"
        case "-" where inClass: return "-"
        case "c":
            guard let letter = peek(), (letter >= "a" && letter <= "z") || (letter >= "A" && letter <= "Z") else {
                throw error("'\\c' must be followed by a letter")
            }
            position += 1
            return Unicode.Scalar(UInt8(letter.value % 32))
        case "0":
            if let next = peek(), next >= "0", next <= "9" { throw error("invalid octal escape") }
            return "\u{0}"
        case "x":
            guard let value = parseHex(count: 2) else { throw error("'\\x' must be followed by two hex digits") }
            return Unicode.Scalar(UInt8(value))
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
                guard digits > 0, peek() == "}", let result = Unicode.Scalar(value) else { throw error("invalid '\\u{…}' escape") }
                position += 1
                return result
            }
            guard let high = parseHex(count: 4) else { throw error("'\\u' must be followed by four hex digits") }
            if high >= 0xD800, high <= 0xDBFF, peek() == "\\", peek(1) == "u" {
                let save = position
                position += 2
                if let low = parseHex(count: 4), low >= 0xDC00, low <= 0xDFFF,
                   let combined = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                    return combined
                }
                position = save
            }
            guard let result = Unicode.Scalar(high) else { throw error("lone surrogate escapes are not supported") }
            return result
        case "^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/":
            return scalar
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
        case scalar(Unicode.Scalar)
        case set(String)
    }

    private mutating func parseClass() throws(SyntaxError) {
        position += 1
        var negated = false
        if peek() == "^" {
            negated = true
            position += 1
        }
        if peek() == "]" {
            position += 1
            // `[]` never matches, `[^]` matches any character.
            output += negated ? "[\\x{0}-\\x{10FFFF}]" : "(?!)"
            return
        }
        var body = ""
        while true {
            guard let scalar = peek() else { throw error("missing ']'") }
            if scalar == "]" {
                position += 1
                break
            }
            let first = try parseClassAtom()
            if peek() == "-", let after = peek(1), after != "]" {
                position += 1
                let second = try parseClassAtom()
                guard case .scalar(let low) = first, case .scalar(let high) = second else {
                    throw error("a character class escape cannot bound a range")
                }
                guard low.value <= high.value else { throw error("range out of order in a character class") }
                body += Self.literal(low, inClass: true) + "-" + Self.literal(high, inClass: true)
            } else {
                switch first {
                case .scalar(let value): body += Self.literal(value, inClass: true)
                case .set(let set): body += set
                }
            }
        }
        output += "[" + (negated ? "^" : "") + body + "]"
    }

    private mutating func parseClassAtom() throws(SyntaxError) -> ClassAtom {
        guard let scalar = peek() else { throw error("missing ']'") }
        guard scalar == "\\" else {
            position += 1
            return .scalar(scalar)
        }
        position += 1
        switch peek() {
        case "d": position += 1; return .set("0-9")
        case "D": position += 1; return .set("[^0-9]")
        case "w": position += 1; return .set(Self.wordClass)
        case "W": position += 1; return .set("[^\(Self.wordClass)]")
        case "s": position += 1; return .set(Self.spaceClass)
        case "S": position += 1; return .set("[^\(Self.spaceClass)]")
        case "p", "P": return .set(try parsePropertyEscape())
        default: return .scalar(try parseCharacterEscape(inClass: true))
        }
    }

    private static func literal(_ scalar: Unicode.Scalar, inClass: Bool = false) -> String {
        let isAlphanumeric = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
        if isAlphanumeric || (!inClass && scalar.value >= 0x80) { return String(Character(scalar)) }
        return "\\x{" + String(scalar.value, radix: 16) + "}"
    }
}
