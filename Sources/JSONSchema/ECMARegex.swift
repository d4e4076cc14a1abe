import Foundation

/// A compiled ECMA-262 regular expression, for `pattern` and `patternProperties`. Compiled
/// once, when the schema is compiled: most patterns become a `RegexAutomaton` (linear-time,
/// no backtracking); the few that need back references, lookarounds or `\b` go to ICU.
final class ECMARegex: @unchecked Sendable {
    // @unchecked: both engines are immutable after creation; NSRegularExpression is
    // documented as safe to use from several threads at once.
    private enum Engine {
        case automaton(RegexAutomaton)
        case icu(NSRegularExpression)
    }

    private let engine: Engine
    /// The pattern as written in the schema.
    let source: String

    /// Compiles `pattern`, or explains why it is not a usable ECMA-262 regular expression.
    init(_ pattern: String) throws(ECMARegexParser.SyntaxError) {
        let tree: RegexNode
        switch ECMARegexParser.parse(pattern) {
        case .success(let node): tree = node
        case .failure(let error): throw error
        }
        if let automaton = RegexAutomaton(tree) {
            engine = .automaton(automaton)
        } else {
            do {
                engine = .icu(try NSRegularExpression(pattern: ICURegexWriter.write(tree), options: []))
            } catch {
                throw ECMARegexParser.SyntaxError(message: "not supported by the regular expression engine (for example, unbounded lookbehind)")
            }
        }
        source = pattern
    }

    /// Whether the expression matches anywhere in `string` (patterns are not anchored).
    func matches(_ string: String) -> Bool {
        switch engine {
        case .automaton(let automaton):
            return automaton.matches(string)
        case .icu(let expression):
            let range = NSRange(location: 0, length: string.utf16.count)
            return expression.firstMatch(in: string, options: [], range: range) != nil
        }
    }

    /// Whether `pattern` is a valid ECMA-262 regular expression (the `regex` format).
    static func isValid(_ pattern: String) -> Bool {
        if case .success = ECMARegexParser.parse(pattern) { return true }
        return false
    }
}
