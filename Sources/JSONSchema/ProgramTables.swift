import JSON

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
