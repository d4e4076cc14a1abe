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
