/// `if`, `then` and `else`.
struct ConditionalRule: Sendable {
    var condition: Child
    var then: Child?
    var otherwise: Child?
}
