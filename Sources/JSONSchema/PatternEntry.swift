/// A `patternProperties` entry.
struct PatternEntry: Sendable {
    var regex: Int32
    var child: Child
}
