/// A schema resource as the evaluator sees it.
struct ProgramResource: Sendable {
    var uri: String
    /// Nodes of the resource's `$dynamicAnchor`s, by name.
    var dynamicAnchors: [String: Int32]
}
