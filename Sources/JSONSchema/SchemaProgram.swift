import JSON

/// A compiled schema: an immutable graph of nodes, shared by every validation.
///
/// Nodes refer to each other by index, so recursive schemas are cycles in the graph, not
/// in memory. Strings for error locations are kept in tables and only read on failure.
final class SchemaProgram: Sendable {
    let nodes: [SchemaNode]
    let root: Int
    /// Keyword location pieces, e.g. `/properties/name`, indexed by `Instruction.keyword` and `Child.segment`.
    let segments: [String]
    /// Absolute keyword locations, indexed by `Instruction.absolute`; nil for anonymous schemas.
    let absoluteLocations: [String?]
    /// The schema resources the nodes belong to, for `$dynamicRef`.
    let resources: [ProgramResource]
    /// Whether any node uses `unevaluatedProperties` or `unevaluatedItems`.
    let tracksEvaluation: Bool
    /// Whether any annotation instructions exist.
    let collectsAnnotations: Bool
    let options: ValidationOptions

    init(nodes: [SchemaNode], root: Int, segments: [String], absoluteLocations: [String?], resources: [ProgramResource], options: ValidationOptions) {
        self.nodes = nodes
        self.root = root
        self.segments = segments
        self.absoluteLocations = absoluteLocations
        self.resources = resources
        self.options = options
        tracksEvaluation = nodes.contains { $0.hasUnevaluated }
        collectsAnnotations = nodes.contains { node in
            node.instructions.contains { if case .annotation = $0.operation { true } else { false } }
        }
    }
}

/// A schema resource as the evaluator sees it.
struct ProgramResource: Sendable {
    var uri: String
    /// Nodes of the resource's `$dynamicAnchor`s, by name.
    var dynamicAnchors: [String: Int]
}

/// One compiled schema (object or boolean).
struct SchemaNode: Sendable {
    /// Index into `SchemaProgram.resources`.
    var resource: Int
    /// The keywords to evaluate, in order (`unevaluated*` last).
    var instructions: [Instruction]
    /// Whether the node has `unevaluatedProperties` or `unevaluatedItems`.
    var hasUnevaluated: Bool
    /// Whether the node is the boolean schema `false`.
    var isFalse: Bool
}

/// A subschema applied by a keyword, and the keyword-location piece that leads to it.
struct Child: Sendable {
    var node: Int
    var segment: Int
}

/// One compiled keyword (or group of keywords evaluated together).
struct Instruction: Sendable {
    var operation: Operation
    /// Segment index of the keyword's own location piece, e.g. `/type`.
    var keyword: Int
    /// Index into `SchemaProgram.absoluteLocations`.
    var absolute: Int
}

/// The JSON types, as a bit set, for `type`.
struct TypeMask: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = TypeMask(rawValue: 1)
    static let boolean = TypeMask(rawValue: 2)
    static let object = TypeMask(rawValue: 4)
    static let array = TypeMask(rawValue: 8)
    static let number = TypeMask(rawValue: 16)
    static let string = TypeMask(rawValue: 32)
    static let integer = TypeMask(rawValue: 64)

    static let names: [(String, TypeMask)] = [
        ("null", .null), ("boolean", .boolean), ("object", .object), ("array", .array),
        ("number", .number), ("string", .string), ("integer", .integer),
    ]

    var description: String {
        let list = Self.names.filter { contains($0.1) }.map(\.0)
        return list.count == 1 ? list[0] : list.dropLast().joined(separator: ", ") + " or " + (list.last ?? "")
    }
}

/// `properties`, `patternProperties` and `additionalProperties` of one schema, evaluated together.
final class PropertyApplicator: Sendable {
    let named: [ExactString: Child]
    let namedInOrder: [(String, Child)]
    let patterns: [(ECMARegex, Child)]
    let additional: Child?

    init(named: [(String, Child)], patterns: [(ECMARegex, Child)], additional: Child?) {
        namedInOrder = named
        self.named = Dictionary(named.map { (ExactString($0.0), $0.1) }, uniquingKeysWith: { first, _ in first })
        self.patterns = patterns
        self.additional = additional
    }
}

/// What a compiled keyword does.
enum Operation: Sendable {
    case alwaysFalse
    case type(TypeMask)
    case constant(JSONValue)
    case enumeration([JSONValue], Set<JSONValue>)
    case multipleOf(JSONNumber)
    case maximum(JSONNumber, exclusive: Bool)
    case minimum(JSONNumber, exclusive: Bool)
    case maxLength(Int)
    case minLength(Int)
    case pattern(ECMARegex)
    case format(FormatKind)
    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    case maxProperties(Int)
    case minProperties(Int)
    case required([String])
    case dependentRequired([(String, [String])])
    case properties(PropertyApplicator)
    case propertyNames(Child)
    case dependentSchemas([(String, Child)])
    case items(prefix: [Child], rest: Child?)
    case contains(Child, minimum: Int, maximum: Int?, minimumKeyword: Int, maximumKeyword: Int)
    case allOf([Child])
    case anyOf([Child])
    case oneOf([Child])
    case not(Child)
    case conditional(if: Child, then: Child?, else: Child?)
    case ref(Child)
    case dynamicRef(Child, anchor: String)
    case unevaluatedProperties(Child)
    case unevaluatedItems(Child)
    case annotation(String, JSONValue)
}
