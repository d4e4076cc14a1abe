/// A subschema applied by a keyword, and the keyword-location piece that leads to it.
struct Child: Sendable {
    var node: Int32
    var segment: Int32
}

/// A run of entries in one of the program's tables.
struct TableRange: Sendable {
    var start: Int32
    var count: Int32

    var range: Range<Int> { Int(start)..<Int(start + count) }
}

/// One compiled keyword (or a group of keywords evaluated together), with where it is.
struct Instruction: Sendable {
    var operation: Operation
    /// Segment index of the keyword's own location piece, e.g. `/type`.
    var keyword: Int32
    /// Index into `SchemaProgram.absoluteLocations`.
    var absolute: Int32
}

/// What a compiled keyword does. Every payload is plain data (indices into the program's
/// tables), so evaluating touches no reference counts.
enum Operation: Sendable {
    case alwaysFalse
    case type(TypeMask)
    case constant(value: Int32)
    case enumeration(table: Int32)
    case multipleOf(number: Int32)
    case maximum(number: Int32, exclusive: Bool)
    case minimum(number: Int32, exclusive: Bool)
    case maxLength(Int)
    case minLength(Int)
    case pattern(regex: Int32)
    case format(FormatKind)
    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    case maxProperties(Int)
    case minProperties(Int)
    case required(table: Int32)
    case dependentRequired(table: Int32)
    case properties(table: Int32)
    case propertyNames(Child)
    case dependentSchemas(table: Int32)
    case items(prefix: TableRange, rest: Child?)
    case contains(table: Int32)
    case allOf(TableRange)
    case anyOf(TableRange)
    case oneOf(TableRange)
    case not(Child)
    case conditional(table: Int32)
    case ref(Child)
    case dynamicRef(Child, anchor: Int32)
    case unevaluatedProperties(Child)
    case unevaluatedItems(Child)
    case annotation(table: Int32)
}

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
