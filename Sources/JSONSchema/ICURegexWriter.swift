/// Spells a `RegexNode` tree in the dialect of ICU (`NSRegularExpression`), keeping
/// ECMA-262 meaning where the two differ:
///
/// - `\d`, `\w`, `\s` and `\b` are written out as the ASCII (and fixed space) sets ECMA-262 means.
/// - `$` matches only at the very end in ECMA-262 (ICU also before a final newline): `\z`.
/// - `[]` and `[^]` (never and always match) have no ICU spelling of their own.
/// - Literals are written as `\x{…}`, so ICU's extra set syntax (`[:alpha:]`, `&&`) never applies.
enum ICURegexWriter {
    static func write(_ node: RegexNode) -> String {
        var output = ""
        write(node, into: &output)
        return output
    }

    private static let word = "[\\x{30}-\\x{39}\\x{41}-\\x{5a}\\x{5f}\\x{61}-\\x{7a}]"

    private static func write(_ node: RegexNode, into output: inout String) {
        switch node {
        case .empty:
            break
        case .scalars(let set):
            output += setText(set)
        case .sequence(let nodes):
            for node in nodes { write(node, into: &output) }
        case .alternation(let nodes):
            output += "(?:"
            for (index, node) in nodes.enumerated() {
                if index > 0 { output += "|" }
                write(node, into: &output)
            }
            output += ")"
        case .repetition(let inner, let minimum, let maximum, let greedy):
            output += "(?:"
            write(inner, into: &output)
            output += ")"
            if let maximum {
                output += "{\(minimum),\(maximum)}"
            } else {
                output += "{\(minimum),}"
            }
            if !greedy { output += "?" }
        case .group(let inner, let name, let capturing):
            if let name {
                output += "(?<\(name)>"
            } else {
                output += capturing ? "(" : "(?:"
            }
            write(inner, into: &output)
            output += ")"
        case .startAnchor:
            output += "^"
        case .endAnchor:
            output += "\\z"
        case .wordBoundary(let negated):
            output += negated
                ? "(?:(?<=\(word))(?=\(word))|(?<!\(word))(?!\(word)))"
                : "(?:(?<=\(word))(?!\(word))|(?<!\(word))(?=\(word)))"
        case .lookaround(let inner, let ahead, let negated):
            output += "(?" + (ahead ? "" : "<") + (negated ? "!" : "=")
            write(inner, into: &output)
            output += ")"
        case .backReference(let number):
            output += "\\\(number)"
        case .namedBackReference(let name):
            output += "\\k<\(name)>"
        }
    }

    private static func setText(_ set: ScalarSet) -> String {
        if set.items.isEmpty {
            return set.negated ? "[\\x{0}-\\x{10ffff}]" : "(?!)"
        }
        return "[" + (set.negated ? "^" : "") + itemsText(set.items) + "]"
    }

    private static func itemsText(_ items: [ScalarSet.Item]) -> String {
        var text = ""
        for item in items {
            switch item {
            case .range(let low, let high):
                text += "\\x{" + String(low, radix: 16) + "}"
                if high != low { text += "-\\x{" + String(high, radix: 16) + "}" }
            case .property(let property, let negated):
                text += "\\" + (negated ? "P" : "p") + "{" + property.name + "}"
            case .nested(let inner):
                text += inner.items.isEmpty ? (inner.negated ? "\\x{0}-\\x{10ffff}" : "") : "[" + (inner.negated ? "^" : "") + itemsText(inner.items) + "]"
            }
        }
        return text
    }
}
