/// One compiled schema (object or boolean): a run of instructions.
struct NodeHeader: Sendable {
    var instructions: TableRange
    /// Index into `SchemaProgram.resources`.
    var resource: Int32
    /// Whether the node has `unevaluatedProperties` or `unevaluatedItems`.
    var hasUnevaluated: Bool
    /// Whether the node is the boolean schema `false`.
    var isFalse: Bool
}
