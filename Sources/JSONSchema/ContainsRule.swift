/// `contains` with `minContains` and `maxContains`.
struct ContainsRule: Sendable {
    var child: Child
    var minimum: Int
    var maximum: Int?
    var minimumKeyword: Int32
    var maximumKeyword: Int32
}
