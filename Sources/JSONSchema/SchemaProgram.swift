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
    /// The same pieces as UTF-8, to build locations with one allocation.
    let segmentBytes: [[UInt8]]
    /// Absolute keyword locations, indexed by `Instruction.absolute`; nil for anonymous schemas.
    let absoluteLocations: [String?]
    /// The schema resources the nodes belong to, for `$dynamicRef`.
    let resources: [ProgramResource]
    /// Whether any annotation instructions exist.
    let collectsAnnotations: Bool
    /// Whether any `$dynamicRef` needs the dynamic scope kept.
    let usesDynamicScope: Bool
    /// Per node: whether it or a subschema it applies can produce an annotation.
    let mayAnnotate: UnsafeMutableBufferPointer<Bool>

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
        segmentBytes = tables.segments.map { Array($0.utf8) }
        absoluteLocations = tables.absoluteLocations
        resources = tables.resources
        collectsAnnotations = !tables.annotations.isEmpty
        usesDynamicScope = tables.instructions.contains { if case .dynamicRef = $0.operation { true } else { false } }
        mayAnnotate = Self.buffer(Self.annotatingNodes(tables))
    }

    /// The subschemas an instruction can apply and whose annotations can be kept (so not
    /// `not` or `propertyNames`), as node indices.
    static func annotationChildren(of operation: Operation, _ tables: ProgramTables) -> [Int32] {
        func range(_ range: TableRange) -> [Int32] { tables.children[range.range].map(\.node) }
        switch operation {
        case .properties(let table):
            let applicator = tables.applicators[Int(table)]
            return range(applicator.namedChildren) + tables.patterns[applicator.patterns.range].map(\.child.node)
                + (applicator.additional.map { [$0.node] } ?? [])
        case .items(let prefix, let rest): return range(prefix) + (rest.map { [$0.node] } ?? [])
        case .contains(let table): return [tables.containsRules[Int(table)].child.node]
        case .allOf(let children), .anyOf(let children), .oneOf(let children): return range(children)
        case .conditional(let table):
            let rule = tables.conditionals[Int(table)]
            return [rule.condition.node] + [rule.then, rule.otherwise].compactMap { $0?.node }
        case .ref(let child), .unevaluatedProperties(let child), .unevaluatedItems(let child): return [child.node]
        case .dynamicRef(let child, let anchor):
            let name = tables.anchors[Int(anchor)]
            return [child.node] + tables.resources.compactMap { $0.dynamicAnchors[name] }
        case .dependentSchemas(let table): return tables.dependentSchemas[Int(table)].map(\.1.node)
        default: return []
        }
    }

    private static func annotatingNodes(_ tables: ProgramTables) -> [Bool] {
        var result = [Bool](repeating: false, count: tables.nodes.count)
        var edges = [[Int32]](repeating: [], count: tables.nodes.count)
        for (index, node) in tables.nodes.enumerated() {
            for instruction in tables.instructions[node.instructions.range] {
                if case .annotation = instruction.operation { result[index] = true }
                edges[index] += annotationChildren(of: instruction.operation, tables)
            }
        }
        var changed = true
        while changed {
            changed = false
            for index in result.indices where !result[index] && edges[index].contains(where: { result[Int($0)] }) {
                result[index] = true
                changed = true
            }
        }
        return result
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
        Self.free(mayAnnotate)
    }
}
