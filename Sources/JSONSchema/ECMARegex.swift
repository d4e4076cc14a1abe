import Foundation

/// A compiled ECMA-262 regular expression, for `pattern`, `patternProperties` and the
/// `regex` format. Compiled once, when the schema is compiled.
final class ECMARegex: @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable after creation and documented as safe
    // to use from several threads at once.
    private let expression: NSRegularExpression
    /// The pattern as written in the schema.
    let source: String

    /// Compiles `pattern`, or explains why it is not a usable ECMA-262 regular expression.
    init(_ pattern: String) throws(ECMARegexTranslator.SyntaxError) {
        let translated: String
        switch ECMARegexTranslator.translate(pattern) {
        case .success(let text): translated = text
        case .failure(let error): throw error
        }
        do {
            expression = try NSRegularExpression(pattern: translated, options: [])
        } catch {
            throw ECMARegexTranslator.SyntaxError(message: "not supported by the regular expression engine (for example, unbounded lookbehind)")
        }
        source = pattern
    }

    /// Whether the expression matches anywhere in `string` (patterns are not anchored).
    func matches(_ string: String) -> Bool {
        let range = NSRange(location: 0, length: string.utf16.count)
        return expression.firstMatch(in: string, options: [], range: range) != nil
    }

    /// Whether `pattern` is a valid ECMA-262 regular expression (the `regex` format).
    static func isValid(_ pattern: String) -> Bool {
        if case .success = ECMARegexTranslator.translate(pattern) { return true }
        return false
    }
}
