import JSON

/// A compiled schema: an immutable graph of nodes, shared by every validation.
///
/// Nodes refer to each other by index, so recursive schemas are cycles in the graph, not
/// in memory. The hot tables live in buffers this object owns, so that evaluation reads
/// them without reference counting; strings for error locations are only read on failure.
final class SchemaProgram: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init, and the buffers
    // are allocated, filled and freed only by this object.
    let root: Int
    let options: ValidationOptions
    let nodes: UnsafeMutableBufferPointer<NodeHeader>
    let instructions: UnsafeMutableBufferPointer<Instruction>
    let children: UnsafeMutableBufferPointer<Child>
    let patterns: UnsafeMutableBufferPointer<PatternEntry>
    /// Keeps alive the name tables the other tables refer to unretained.
    private let nameTables: [NameTable]
    let applicators: UnsafeMutableBufferPointer<PropertyApplicator>
    let enums: UnsafeMutableBufferPointer<EnumTable>
    let requireds: UnsafeMutableBufferPointer<RequiredTable>
    let containsRules: UnsafeMutableBufferPointer<ContainsRule>
    let conditionals: UnsafeMutableBufferPointer<ConditionalRule>
    let values: UnsafeMutableBufferPointer<JSONValue>
    let numbers: UnsafeMutableBufferPointer<JSONNumber>
    /// Unretained references; `regexObjects` keeps them alive.
    let regexes: UnsafeMutableBufferPointer<Unmanaged<ECMARegex>>
    private let regexObjects: [ECMARegex]
    let dependentRequireds: [[(String, [String])]]
    let dependentSchemas: [[(String, Child)]]
    let annotations: [(String, JSONValue)]
    let anchors: [String]
    /// Keyword location pieces, e.g. `/properties/name`, indexed by `Instruction.keyword` and `Child.segment`.
    let segments: [String]
    /// Absolute keyword locations, indexed by `Instruction.absolute`; nil for anonymous schemas.
    let absoluteLocations: [String?]
    /// The schema resources the nodes belong to, for `$dynamicRef`.
    let resources: [ProgramResource]
    /// Whether any annotation instructions exist.
    let collectsAnnotations: Bool

    private static func buffer<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
        _ = buffer.initialize(from: array)
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<array.count])
    }

    private static func free<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        buffer.deinitialize()
        buffer.deallocate()
    }

    init(tables: ProgramTables, root: Int, options: ValidationOptions) {
        self.root = root
        self.options = options
        nodes = Self.buffer(tables.nodes)
        instructions = Self.buffer(tables.instructions)
        children = Self.buffer(tables.children)
        patterns = Self.buffer(tables.patterns)
        nameTables = tables.nameTables
        applicators = Self.buffer(tables.applicators)
        enums = Self.buffer(tables.enums)
        requireds = Self.buffer(tables.requireds)
        containsRules = Self.buffer(tables.containsRules)
        conditionals = Self.buffer(tables.conditionals)
        values = Self.buffer(tables.values)
        numbers = Self.buffer(tables.numbers)
        regexObjects = tables.regexes
        regexes = Self.buffer(tables.regexes.map { Unmanaged.passUnretained($0) })
        dependentRequireds = tables.dependentRequireds
        dependentSchemas = tables.dependentSchemas
        annotations = tables.annotations
        anchors = tables.anchors
        segments = tables.segments
        absoluteLocations = tables.absoluteLocations
        resources = tables.resources
        collectsAnnotations = !tables.annotations.isEmpty
    }

    deinit {
        Self.free(nodes)
        Self.free(instructions)
        Self.free(children)
        Self.free(patterns)
        Self.free(applicators)
        Self.free(enums)
        Self.free(requireds)
        Self.free(containsRules)
        Self.free(conditionals)
        Self.free(values)
        Self.free(numbers)
        Self.free(regexes)
    }

    /// Whether any node uses `unevaluatedProperties` or `unevaluatedItems`.
    var tracksEvaluation: Bool { nodes.contains { $0.hasUnevaluated } }
}
