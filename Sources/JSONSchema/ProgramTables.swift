import JSON

/// `properties`, `patternProperties` and `additionalProperties` of one schema, evaluated
/// together. Plain data: the name table is kept alive by `SchemaProgram.nameTables`.
struct PropertyApplicator: @unchecked Sendable {
    // @unchecked: Unmanaged is a plain reference; the program owns the table.
    var named: Unmanaged<NameTable>
    /// The subschema of each name, in `SchemaProgram.children`.
    var namedChildren: TableRange
    /// Entries of `SchemaProgram.patterns`.
    var patterns: TableRange
    var additional: Child?
}

/// A `patternProperties` entry.
struct PatternEntry: Sendable {
    var regex: Int32
    var child: Child
}

/// `enum`: the allowed values, with fast lookup for strings.
struct EnumTable: @unchecked Sendable {
    // @unchecked: Unmanaged is a plain reference; the program owns the table.
    var values: [JSONValue]
    /// Set when every value is a string.
    var strings: Unmanaged<NameTable>?
    var set: Set<JSONValue>
}

/// `required`: names to find in an object.
struct RequiredTable: @unchecked Sendable {
    // @unchecked: Unmanaged is a plain reference; the program owns the table.
    var names: Unmanaged<NameTable>
    var count: Int
}

/// `contains` with `minContains` and `maxContains`.
struct ContainsRule: Sendable {
    var child: Child
    var minimum: Int
    var maximum: Int?
    var minimumKeyword: Int32
    var maximumKeyword: Int32
}

/// `if`, `then` and `else`.
struct ConditionalRule: Sendable {
    var condition: Child
    var then: Child?
    var otherwise: Child?
}

/// A schema resource as the evaluator sees it.
struct ProgramResource: Sendable {
    var uri: String
    /// Nodes of the resource's `$dynamicAnchor`s, by name.
    var dynamicAnchors: [String: Int32]
}

/// Everything the compiler produces, before it is frozen into a `SchemaProgram`.
struct ProgramTables: Sendable {
    var nodes: [NodeHeader] = []
    var instructions: [Instruction] = []
    var children: [Child] = []
    var patterns: [PatternEntry] = []
    var nameTables: [NameTable] = []
    var values: [JSONValue] = []
    var numbers: [JSONNumber] = []
    var regexes: [ECMARegex] = []
    var enums: [EnumTable] = []
    var requireds: [RequiredTable] = []
    var dependentRequireds: [[(String, [String])]] = []
    var dependentSchemas: [[(String, Child)]] = []
    var applicators: [PropertyApplicator] = []
    var containsRules: [ContainsRule] = []
    var conditionals: [ConditionalRule] = []
    var annotations: [(String, JSONValue)] = []
    var anchors: [String] = []
    var segments: [String] = []
    var absoluteLocations: [String?] = []
    var resources: [ProgramResource] = []
}
