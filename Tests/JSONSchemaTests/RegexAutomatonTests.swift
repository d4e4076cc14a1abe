import Foundation
@testable import JSONSchema
import XCTest

/// The automaton must agree with ICU (given the same ECMA-262 translation) on every
/// pattern it accepts; ICU is the reference it replaces for speed and linear time.
final class RegexAutomatonTests: XCTestCase {
    private func engines(_ pattern: String, file: StaticString = #filePath, line: UInt = #line) -> (RegexAutomaton, NSRegularExpression)? {
        guard case .success(let node) = ECMARegexParser.parse(pattern) else {
            XCTFail("not a pattern: \(pattern)", file: file, line: line)
            return nil
        }
        guard let automaton = RegexAutomaton(node) else {
            XCTFail("no automaton for \(pattern)", file: file, line: line)
            return nil
        }
        guard let icu = try? NSRegularExpression(pattern: ICURegexWriter.write(node)) else {
            XCTFail("ICU refuses \(pattern)", file: file, line: line)
            return nil
        }
        return (automaton, icu)
    }

    private func icuMatches(_ icu: NSRegularExpression, _ string: String) -> Bool {
        icu.firstMatch(in: string, range: NSRange(location: 0, length: string.utf16.count)) != nil
    }

    func testAgreesWithICUOnTypicalPatterns() {
        let patterns = [
            "^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", "^\\+?[0-9 ]{7,20}$", "^[^\\s].*$", "^[0-9a-f]{64}$",
            "^[a-z]{2,3}(-[A-Z]{2})?$", "a+", "^$", "x|y|", "(ab|a)(bc|c)?$", "^\\d{4}-\\d{2}$", "\\w+@\\w+",
            "^\\p{L}+$", "[^a-c]", "^.{3,5}$", "\\s", "colou?r", "^(a|b)*c", "[\\d\\-x]", "^[]", "[^]", "é+$", "^🐲*$",
            "\\u00e9", "^a{0}b$", "(?:x){2,}", "^\\P{Lu}*$", "[\\S]", "\\$\\^", "^\\.$", "()",
        ]
        let strings = [
            "", "a", "ab", "abc", "SW1A 1AA", "sw1a 1aa", "+44 7700 900123", "12", " x", "x ", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "en", "en-GB", "eng-gb", "aaaa", "abcc", "1234-56", "a@b", "Élan", "ÉLAN", "café", "🐲🐲", "🐉", "d", "xx", "xyz",
            "color", "colour", "ababc", "b", "\n", "\u{2028}", "$^", ".", "x.", "\u{00A0}", "٣",
        ]
        for pattern in patterns {
            guard let (automaton, icu) = engines(pattern) else { continue }
            for string in strings {
                XCTAssertEqual(automaton.matches(string), icuMatches(icu, string), "pattern \(pattern) on \(string.debugDescription)")
            }
        }
    }

    func testAgreesWithICUOnGeneratedPatterns() {
        var generator = SeededGenerator(seed: 20_260_301)
        let atoms = ["a", "b", ".", "[ab]", "[^a]", "\\d", "\\w", "\\s", "é", "(a|b)", "(?:ab)", "x"]
        let quantifiers = ["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}"]
        let alphabet: [Character] = ["a", "b", "x", "1", " ", "é", "\n"]
        var compared = 0
        for _ in 0..<300 {
            var pattern = Bool.random(using: &generator) ? "^" : ""
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                pattern += atoms.randomElement(using: &generator)! + quantifiers.randomElement(using: &generator)!
            }
            if Bool.random(using: &generator) { pattern += "$" }
            guard let (automaton, icu) = engines(pattern) else { continue }
            for _ in 0..<20 {
                let string = String((0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
                XCTAssertEqual(automaton.matches(string), icuMatches(icu, string), "pattern \(pattern) on \(string.debugDescription)")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 6000)
    }

    func testTheEmptyPatternMatchesEverything() throws {
        // ICU refuses an empty pattern, so it is checked on its own.
        let regex = try ECMARegex("")
        XCTAssertTrue(regex.matches(""))
        XCTAssertTrue(regex.matches("anything"))
    }

    func testRunsInLinearTimeOnPatternsThatMakeBacktrackersExplode() throws {
        // ^(a+)+$ on "aaaa…ab" takes exponential time in a backtracking engine.
        let regex = try ECMARegex("^(a+)+$")
        XCTAssertFalse(regex.matches(String(repeating: "a", count: 50_000) + "b"))
        XCTAssertTrue(regex.matches(String(repeating: "a", count: 50_000)))
    }

    func testLeavesBackReferencesAndLookaroundsToICU() throws {
        for pattern in ["(a)\\1", "a(?=b)", "(?<!x)y", "\\bword\\b"] {
            guard case .success(let node) = ECMARegexParser.parse(pattern) else { return XCTFail(pattern) }
            XCTAssertNil(RegexAutomaton(node), pattern)
        }
        XCTAssertTrue(try ECMARegex("(a)\\1").matches("xaa"))
        XCTAssertFalse(try ECMARegex("\\bcat\\b").matches("concatenate"))
        XCTAssertTrue(try ECMARegex("\\bcat\\b").matches("a cat."))
    }
}

/// A small deterministic generator (SplitMix64), so generated cases are the same every run.
private struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
