import JSON

/// Compiles registered schemas into a `SchemaProgram`.
///
/// Works from a queue, never by recursion: every subschema and every reference target is
/// compiled once, by location, and referred to by node index.
struct SchemaCompiler {
    private var state: RegistryState
    private let options: ValidationOptions
    private var tables = ProgramTables()
    /// Per node (by index): its instructions, its resource and flags, until they are flattened.
    private var nodeInstructions: [[Instruction]] = []
    private var nodes: [NodeHeader] = []
    private var nodeLocations: [SchemaLocation] = []
    private var nodeIndex: [SchemaLocation: Int] = [:]
    private var pending: [Int] = []
    private var segmentIndex: [String: Int32] = [:]
    private var programResourceIndex: [Int: Int] = [:]
    private var vocabularyCache: [String: Set<String>] = [:]
    /// Edges to subschemas applied to the same instance location, for cycle detection.
    private var inPlaceEdges: [[Int]] = []

    init(state: RegistryState, options: ValidationOptions) {
        self.state = state
        self.options = options
    }

    /// Compiles the schema at `location` and everything it reaches.
    mutating func compile(_ location: SchemaLocation) throws(SchemaError) -> SchemaProgram {
        let root = node(for: location)
        while let next = pending.popLast() {
            try compileNode(next)
        }
        try detectCycles()
        shortcutPureReferences()
        for (index, instructions) in nodeInstructions.enumerated() {
            nodes[index].instructions = TableRange(start: Int32(tables.instructions.count), count: Int32(instructions.count))
            tables.instructions += instructions
        }
        tables.nodes = nodes
        return SchemaProgram(tables: tables, root: root, options: options)
    }

    // MARK: - Tables

    private mutating func node(for location: SchemaLocation) -> Int {
        if let existing = nodeIndex[location] { return existing }
        let index = nodes.count
        nodes.append(NodeHeader(instructions: TableRange(start: 0, count: 0), resource: 0, hasUnevaluated: false, isFalse: false))
        nodeInstructions.append([])
        nodeLocations.append(location)
        inPlaceEdges.append([])
        nodeIndex[location] = index
        pending.append(index)
        return index
    }

    private mutating func segment(_ tokens: [String]) -> Int32 {
        segment(text: tokens.map { "/" + JSONPointer.escape($0) }.joined())
    }

    private mutating func segment(text: String) -> Int32 {
        if let existing = segmentIndex[text] { return existing }
        tables.segments.append(text)
        segmentIndex[text] = Int32(tables.segments.count - 1)
        return Int32(tables.segments.count - 1)
    }

    private mutating func programResource(for resource: Int) -> Int {
        if let existing = programResourceIndex[resource] { return existing }
        let index = tables.resources.count
        programResourceIndex[resource] = index
        tables.resources.append(ProgramResource(uri: state.resources[resource].uri, dynamicAnchors: [:]))
        // Every resource that can be in the dynamic scope needs its dynamic anchors compiled.
        for (name, location) in state.resources[resource].dynamicAnchors {
            tables.resources[index].dynamicAnchors[name] = Int32(node(for: location))
        }
        return index
    }

    private static let fragmentAllowed: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?".utf8))

    /// The pointer as a URI fragment (percent-encoding what a fragment cannot hold).
    static func fragment(_ tokens: [String]) -> String {
        var text = ""
        for byte in JSONPointer(tokens: tokens).description.utf8 {
            if fragmentAllowed.contains(byte) {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }

    // MARK: - Vocabularies

    private mutating func vocabularies(for resource: SchemaResource, at location: String) throws(SchemaError) -> Set<String> {
        let metaSchema = resource.metaSchema
        if metaSchema == Keyword.metaSchema2020 { return Keyword.defaultVocabularies }
        if let cached = vocabularyCache[metaSchema] { return cached }
        guard let metaLocation = state.resolve(URIReference(metaSchema)), let metaValue = state.value(at: metaLocation) else {
            throw SchemaError(code: .unsupportedMetaSchema, location: location,
                              message: "unknown meta-schema \(metaSchema); refex supports draft 2020-12 and registered meta-schemas")
        }
        var result = Keyword.defaultVocabularies
        if let declared = metaValue["$vocabulary"]?.objectValue {
            result = [Keyword.core]
            for (uri, required) in declared {
                if Keyword.knownVocabularies.contains(uri) {
                    result.insert(uri)
                } else if required.boolValue == true {
                    throw SchemaError(code: .unsupportedMetaSchema, location: location,
                                      message: "the meta-schema \(metaSchema) requires the vocabulary \(uri), which refex does not implement")
                }
            }
        }
        vocabularyCache[metaSchema] = result
        return result
    }

    // MARK: - Nodes

    private struct NodeContext {
        var location: SchemaLocation
        var resource: SchemaResource
        var relativePointer: [String]
        var base: URIReference

        func describe(_ tokens: [String]) -> String {
            RegistryState.locationDescription(resource.uri, relativePointer + tokens)
        }
    }

    private mutating func compileNode(_ index: Int) throws(SchemaError) {
        let location = nodeLocations[index]
        guard let value = state.value(at: location) else {
            preconditionFailure("compiled locations exist")
        }
        let resourceIndex = state.enclosingResource(of: location)
        let resource = state.resources[resourceIndex]
        let context = NodeContext(location: location, resource: resource,
                                  relativePointer: Array(location.pointer.dropFirst(resource.location.pointer.count)),
                                  base: URIReference(resource.uri))
        nodes[index].resource = Int32(programResource(for: resourceIndex))
        guard location.pointer.count <= RegistryState.maxSchemaPointerDepth else {
            throw SchemaError(code: .tooDeep, location: context.describe([]), message: "subschemas are nested too deeply")
        }
        switch value {
        case .bool(true):
            return
        case .bool(false):
            nodes[index].isFalse = true
            nodeInstructions[index] = [Instruction(operation: .alwaysFalse, keyword: segment([]), absolute: absolute(context, []))]
            return
        case .object(let object):
            try compileObject(index, object, context)
        default:
            throw SchemaError(code: .notASchema, location: context.describe([]), message: "a schema must be a JSON object or boolean, not \(value.typeName)")
        }
    }

    private mutating func absolute(_ context: NodeContext, _ tokens: [String]) -> Int32 {
        tables.absoluteLocations.append(context.resource.isAnonymous ? nil : context.resource.uri + "#" + Self.fragment(context.relativePointer + tokens))
        return Int32(tables.absoluteLocations.count - 1)
    }

    private mutating func childList(_ children: [Child]) -> TableRange {
        let range = TableRange(start: Int32(tables.children.count), count: Int32(children.count))
        tables.children += children
        return range
    }

    private mutating func regexIndex(_ regex: ECMARegex) -> Int32 {
        tables.regexes.append(regex)
        return Int32(tables.regexes.count - 1)
    }

    private mutating func nameTable(_ names: [String]) -> Unmanaged<NameTable> {
        let table = NameTable(names)
        tables.nameTables.append(table)
        return Unmanaged.passUnretained(table)
    }

    private mutating func numberIndex(_ number: JSONNumber) -> Int32 {
        tables.numbers.append(number)
        return Int32(tables.numbers.count - 1)
    }

    private func invalid(_ context: NodeContext, _ keyword: String, _ message: String) -> SchemaError {
        SchemaError(code: .invalidKeyword, location: context.describe([keyword]), message: "\(keyword) \(message)")
    }

    private mutating func subschema(_ context: NodeContext, _ value: JSONValue, _ tokens: [String], inPlace parent: Int? = nil) throws(SchemaError) -> Child {
        switch value {
        case .object, .bool: break
        default:
            throw SchemaError(code: .invalidKeyword, location: context.describe(tokens), message: "\(tokens.first ?? "keyword") must hold a schema (object or boolean), not \(value.typeName)")
        }
        var location = context.location
        location.pointer += tokens
        let child = Child(node: Int32(node(for: location)), segment: segment(tokens))
        if let parent { inPlaceEdges[parent].append(Int(child.node)) }
        return child
    }

    private mutating func subschemaArray(_ context: NodeContext, _ value: JSONValue, _ keyword: String, inPlace parent: Int?) throws(SchemaError) -> [Child] {
        guard case .array(let elements) = value, !elements.isEmpty else {
            throw invalid(context, keyword, "must be a non-empty array of schemas")
        }
        var children: [Child] = []
        for (position, element) in elements.enumerated() {
            children.append(try subschema(context, element, [keyword, String(position)], inPlace: parent))
        }
        return children
    }

    private func nonNegativeInteger(_ context: NodeContext, _ keyword: String, _ value: JSONValue) throws(SchemaError) -> Int {
        guard case .number(let number) = value, number.isInteger, !number.isNegative else {
            throw invalid(context, keyword, "must be a non-negative integer")
        }
        if let exact = number.int64Value { return Int(exact) }
        return Int.max
    }

    private func number(_ context: NodeContext, _ keyword: String, _ value: JSONValue) throws(SchemaError) -> JSONNumber {
        guard case .number(let number) = value else { throw invalid(context, keyword, "must be a number") }
        return number
    }

    private func stringArray(_ context: NodeContext, _ keyword: String, _ value: JSONValue) throws(SchemaError) -> [String] {
        guard case .array(let elements) = value else { throw invalid(context, keyword, "must be an array of strings") }
        var strings: [String] = []
        for element in elements {
            guard let string = element.stringValue else { throw invalid(context, keyword, "must be an array of strings") }
            strings.append(string)
        }
        guard Set(strings).count == strings.count else { throw invalid(context, keyword, "must not repeat a string") }
        return strings
    }

    private func regex(_ context: NodeContext, _ tokens: [String], _ pattern: String) throws(SchemaError) -> ECMARegex {
        do {
            return try ECMARegex(pattern)
        } catch {
            throw SchemaError(code: .invalidKeyword, location: context.describe(tokens), message: "invalid regular expression: \(error.message)")
        }
    }

    private mutating func resolveReference(_ context: NodeContext, _ keyword: String, _ value: JSONValue) throws(SchemaError) -> (SchemaLocation, URIReference) {
        guard let text = value.stringValue else { throw invalid(context, keyword, "must be a URI reference string") }
        let target = context.base.resolving(text)
        guard let location = state.resolve(target) else {
            throw SchemaError(code: .unresolvedReference, location: context.describe([keyword]),
                              message: "\(keyword) '\(text)' resolves to \(target), which is not registered (schemas are never fetched; register it first)")
        }
        return (location, target)
    }

    private mutating func compileObject(_ index: Int, _ object: JSONObject, _ context: NodeContext) throws(SchemaError) {
        let vocabularies = try vocabularies(for: context.resource, at: context.describe(["$schema"]))
        let assertFormats = options.assertFormats || vocabularies.contains(Keyword.formatAssertion)
        var instructions: [Instruction] = []
        var trailing: [Instruction] = []

        func active(_ keyword: String) -> Bool {
            guard let vocabulary = Keyword.vocabulary[keyword] else { return false }
            if keyword == "format" {
                return vocabularies.contains(Keyword.formatAnnotation) || vocabularies.contains(Keyword.formatAssertion)
            }
            return vocabularies.contains(vocabulary)
        }

        func emit(_ operation: Operation, _ keyword: String) {
            instructions.append(Instruction(operation: operation, keyword: segment([keyword]), absolute: absolute(context, [keyword])))
        }

        func annotate(_ keyword: String, _ value: JSONValue) {
            if options.collects(keyword) {
                tables.annotations.append((keyword, value))
                emit(.annotation(table: Int32(tables.annotations.count - 1)), keyword)
            }
        }

        for (keyword, value) in object {
            guard active(keyword) else {
                annotate(keyword, value)
                continue
            }
            switch keyword {
            case "$id", "$schema", "$anchor", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
                 "additionalProperties", "patternProperties", "prefixItems", "then", "else", "minContains", "maxContains":
                // Registered already, or compiled together with a related keyword below.
                if keyword == "$comment", value.stringValue == nil { throw invalid(context, keyword, "must be a string") }
                if keyword == "$defs", value.objectValue == nil { throw invalid(context, keyword, "must be an object of schemas") }
            case "$ref":
                let (location, _) = try resolveReference(context, keyword, value)
                let child = Child(node: Int32(node(for: location)), segment: segment([keyword]))
                inPlaceEdges[index].append(Int(child.node))
                emit(.ref(child), keyword)
            case "$dynamicRef":
                let (location, target) = try resolveReference(context, keyword, value)
                let child = Child(node: Int32(node(for: location)), segment: segment([keyword]))
                inPlaceEdges[index].append(Int(child.node))
                // Dynamic only if the fragment is an anchor that $dynamicAnchor created ("bookending").
                if let fragment = target.fragment, !fragment.isEmpty, !fragment.hasPrefix("/"),
                   let resourceIndex = state.resourceByURI[target.withoutFragment.description],
                   state.resources[resourceIndex].dynamicAnchors[fragment] != nil {
                    tables.anchors.append(fragment)
                    emit(.dynamicRef(child, anchor: Int32(tables.anchors.count - 1)), keyword)
                } else {
                    emit(.ref(child), keyword)
                }
            case "type":
                var mask: TypeMask = []
                let names: [JSONValue]
                if case .array(let list) = value { names = list } else { names = [value] }
                for name in names {
                    guard let text = name.stringValue, let type = TypeMask.names.first(where: { $0.0 == text })?.1 else {
                        throw invalid(context, keyword, "must be one of null, boolean, object, array, number, string, integer, or an array of them")
                    }
                    guard !mask.contains(type) else { throw invalid(context, keyword, "must not repeat a type") }
                    mask.insert(type)
                }
                if names.isEmpty { throw invalid(context, keyword, "must not be an empty array") }
                emit(.type(mask), keyword)
            case "const":
                tables.values.append(value)
                emit(.constant(value: Int32(tables.values.count - 1)), keyword)
            case "enum":
                guard case .array(let values) = value else { throw invalid(context, keyword, "must be an array") }
                let strings = values.compactMap(\.stringValue)
                let stringTable = strings.count == values.count ? nameTable(strings) : nil
                tables.enums.append(EnumTable(values: values, strings: stringTable, set: Set(values)))
                emit(.enumeration(table: Int32(tables.enums.count - 1)), keyword)
            case "multipleOf":
                let divisor = try number(context, keyword, value)
                guard !divisor.isNegative, !divisor.isZero else { throw invalid(context, keyword, "must be greater than 0") }
                emit(.multipleOf(number: numberIndex(divisor)), keyword)
            case "maximum": emit(.maximum(number: numberIndex(try number(context, keyword, value)), exclusive: false), keyword)
            case "exclusiveMaximum": emit(.maximum(number: numberIndex(try number(context, keyword, value)), exclusive: true), keyword)
            case "minimum": emit(.minimum(number: numberIndex(try number(context, keyword, value)), exclusive: false), keyword)
            case "exclusiveMinimum": emit(.minimum(number: numberIndex(try number(context, keyword, value)), exclusive: true), keyword)
            case "maxLength": emit(.maxLength(try nonNegativeInteger(context, keyword, value)), keyword)
            case "minLength": emit(.minLength(try nonNegativeInteger(context, keyword, value)), keyword)
            case "maxItems": emit(.maxItems(try nonNegativeInteger(context, keyword, value)), keyword)
            case "minItems": emit(.minItems(try nonNegativeInteger(context, keyword, value)), keyword)
            case "maxProperties": emit(.maxProperties(try nonNegativeInteger(context, keyword, value)), keyword)
            case "minProperties": emit(.minProperties(try nonNegativeInteger(context, keyword, value)), keyword)
            case "pattern":
                guard let pattern = value.stringValue else { throw invalid(context, keyword, "must be a string") }
                emit(.pattern(regex: regexIndex(try regex(context, [keyword], pattern))), keyword)
            case "uniqueItems":
                guard let flag = value.boolValue else { throw invalid(context, keyword, "must be a boolean") }
                if flag { emit(.uniqueItems, keyword) }
            case "required":
                let names = try stringArray(context, keyword, value)
                if !names.isEmpty {
                    tables.requireds.append(RequiredTable(names: nameTable(names), count: names.count))
                    emit(.required(table: Int32(tables.requireds.count - 1)), keyword)
                }
            case "dependentRequired":
                guard case .object(let members) = value else { throw invalid(context, keyword, "must be an object of string arrays") }
                var requirements: [(String, [String])] = []
                for (name, list) in members {
                    requirements.append((name, try stringArray(context, keyword, list)))
                }
                tables.dependentRequireds.append(requirements)
                emit(.dependentRequired(table: Int32(tables.dependentRequireds.count - 1)), keyword)
            case "format":
                guard let name = value.stringValue else { throw invalid(context, keyword, "must be a string") }
                if assertFormats, let kind = FormatKind(rawValue: name) { emit(.format(kind), keyword) }
                annotate(keyword, value)
            case "properties":
                guard case .object = value else { throw invalid(context, keyword, "must be an object of schemas") }
                try emitPropertyApplicator(object, context, &instructions)
            case "propertyNames":
                emit(.propertyNames(try subschema(context, value, [keyword])), keyword)
            case "dependentSchemas":
                guard case .object(let members) = value else { throw invalid(context, keyword, "must be an object of schemas") }
                var dependents: [(String, Child)] = []
                for (name, schema) in members {
                    dependents.append((name, try subschema(context, schema, [keyword, name], inPlace: index)))
                }
                tables.dependentSchemas.append(dependents)
                emit(.dependentSchemas(table: Int32(tables.dependentSchemas.count - 1)), keyword)
            case "items":
                var prefix: [Child] = []
                if let prefixValue = object["prefixItems"], active("prefixItems") {
                    prefix = try subschemaArray(context, prefixValue, "prefixItems", inPlace: nil)
                }
                if case .array = value { throw invalid(context, keyword, "must be a schema (use prefixItems for a tuple)") }
                let rest = try subschema(context, value, [keyword])
                emit(.items(prefix: childList(prefix), rest: rest), keyword)
            case "contains":
                let child = try subschema(context, value, [keyword])
                var minimum = 1
                var maximum: Int?
                if let minValue = object["minContains"], active("minContains") {
                    minimum = try nonNegativeInteger(context, "minContains", minValue)
                }
                if let maxValue = object["maxContains"], active("maxContains") {
                    maximum = try nonNegativeInteger(context, "maxContains", maxValue)
                }
                let minimumKeyword = segment([object["minContains"] != nil ? "minContains" : "contains"])
                let maximumKeyword = segment([object["maxContains"] != nil ? "maxContains" : "contains"])
                tables.containsRules.append(ContainsRule(child: child, minimum: minimum, maximum: maximum, minimumKeyword: minimumKeyword, maximumKeyword: maximumKeyword))
                emit(.contains(table: Int32(tables.containsRules.count - 1)), keyword)
            case "allOf": emit(.allOf(childList(try subschemaArray(context, value, keyword, inPlace: index))), keyword)
            case "anyOf": emit(.anyOf(childList(try subschemaArray(context, value, keyword, inPlace: index))), keyword)
            case "oneOf": emit(.oneOf(childList(try subschemaArray(context, value, keyword, inPlace: index))), keyword)
            case "not": emit(.not(try subschema(context, value, [keyword], inPlace: index)), keyword)
            case "if":
                let condition = try subschema(context, value, [keyword], inPlace: index)
                var then: Child?
                var otherwise: Child?
                if let thenValue = object["then"] { then = try subschema(context, thenValue, ["then"], inPlace: index) }
                if let elseValue = object["else"] { otherwise = try subschema(context, elseValue, ["else"], inPlace: index) }
                tables.conditionals.append(ConditionalRule(condition: condition, then: then, otherwise: otherwise, conditionText: ConditionText.describe(value)))
                emit(.conditional(table: Int32(tables.conditionals.count - 1)), keyword)
            case "unevaluatedProperties":
                let child = try subschema(context, value, [keyword])
                trailing.append(Instruction(operation: .unevaluatedProperties(child), keyword: segment([keyword]), absolute: absolute(context, [keyword])))
            case "unevaluatedItems":
                let child = try subschema(context, value, [keyword])
                trailing.append(Instruction(operation: .unevaluatedItems(child), keyword: segment([keyword]), absolute: absolute(context, [keyword])))
            case "title", "description":
                guard value.stringValue != nil else { throw invalid(context, keyword, "must be a string") }
                annotate(keyword, value)
            case "deprecated", "readOnly", "writeOnly":
                guard value.boolValue != nil else { throw invalid(context, keyword, "must be a boolean") }
                annotate(keyword, value)
            case "examples":
                guard value.arrayValue != nil else { throw invalid(context, keyword, "must be an array") }
                annotate(keyword, value)
            case "default":
                annotate(keyword, value)
            case "contentEncoding", "contentMediaType":
                guard value.stringValue != nil else { throw invalid(context, keyword, "must be a string") }
                annotate(keyword, value)
            case "contentSchema":
                switch value {
                case .object, .bool: annotate(keyword, value)
                default: throw invalid(context, keyword, "must be a schema")
                }
            default:
                annotate(keyword, value)
            }
        }

        // Keywords compiled with a partner that may be absent.
        if object["properties"] == nil, object["patternProperties"] != nil || object["additionalProperties"] != nil {
            try emitPropertyApplicator(object, context, &instructions)
        }
        if object["items"] == nil, let prefixValue = object["prefixItems"], active("prefixItems") {
            let prefix = try subschemaArray(context, prefixValue, "prefixItems", inPlace: nil)
            instructions.append(Instruction(operation: .items(prefix: childList(prefix), rest: nil), keyword: segment(["prefixItems"]), absolute: absolute(context, ["prefixItems"])))
        }
        // Without `if`, `then` and `else` do nothing; without `contains`, neither do
        // min/maxContains. They must still be well-formed.
        if object["if"] == nil || !active("if") {
            for keyword in ["then", "else"] {
                guard let value = object[keyword], active(keyword) else { continue }
                switch value {
                case .object, .bool: break
                default: throw invalid(context, keyword, "must be a schema")
                }
            }
        }
        if object["contains"] == nil || !active("contains") {
            for keyword in ["minContains", "maxContains"] {
                guard let value = object[keyword], active(keyword) else { continue }
                _ = try nonNegativeInteger(context, keyword, value)
            }
        }

        // Cheap assertions first: a failing `type` or `required` ends a `oneOf` branch or an
        // `isValid` call before any subschema is entered. The order is otherwise the schema's.
        let ordered = instructions.enumerated().sorted { a, b in
            let (costA, costB) = (Self.cost(a.element.operation), Self.cost(b.element.operation))
            return costA != costB ? costA < costB : a.offset < b.offset
        }.map(\.element)
        nodeInstructions[index] = ordered + trailing
        nodes[index].hasUnevaluated = !trailing.isEmpty
    }

    /// A rough cost class of an instruction, for ordering.
    private static func cost(_ operation: Operation) -> Int {
        switch operation {
        case .type, .constant, .required, .maxProperties, .minProperties, .maxItems, .minItems, .maxLength, .minLength,
             .maximum, .minimum, .alwaysFalse:
            0
        case .enumeration, .multipleOf, .dependentRequired, .annotation:
            1
        case .pattern, .format, .uniqueItems:
            2
        default:
            3
        }
    }

    private mutating func emitPropertyApplicator(_ object: JSONObject, _ context: NodeContext, _ instructions: inout [Instruction]) throws(SchemaError) {
        var named: [(String, Child)] = []
        var patterns: [PatternEntry] = []
        var additional: Child?
        if let value = object["properties"] {
            guard case .object(let members) = value else { throw invalid(context, "properties", "must be an object of schemas") }
            for (name, schema) in members {
                named.append((name, try subschema(context, schema, ["properties", name])))
            }
        }
        if let value = object["patternProperties"] {
            guard case .object(let members) = value else { throw invalid(context, "patternProperties", "must be an object of schemas") }
            for (pattern, schema) in members {
                let compiled = try regex(context, ["patternProperties", pattern], pattern)
                patterns.append(PatternEntry(regex: regexIndex(compiled), child: try subschema(context, schema, ["patternProperties", pattern])))
            }
        }
        if let value = object["additionalProperties"] {
            additional = try subschema(context, value, ["additionalProperties"])
        }
        let keyword = object["properties"] != nil ? "properties" : (object["patternProperties"] != nil ? "patternProperties" : "additionalProperties")
        // Keys are unique in a JSON object, so the names are too.
        let patternRange = TableRange(start: Int32(tables.patterns.count), count: Int32(patterns.count))
        tables.patterns += patterns
        tables.applicators.append(PropertyApplicator(named: nameTable(named.map(\.0)), namedChildren: childList(named.map(\.1)),
                                                     patterns: patternRange, additional: additional))
        instructions.append(Instruction(operation: .properties(table: Int32(tables.applicators.count - 1)),
                                        keyword: segment([keyword]), absolute: absolute(context, [keyword])))
    }

    // MARK: - Shortcuts

    /// Points edges to a schema that is only `{"$ref": …}` (in the same resource) straight at
    /// its target, with the keyword location piece extended by `/$ref`: one node less to
    /// evaluate, the same results and locations.
    private mutating func shortcutPureReferences() {
        func target(_ child: Child, from resource: Int32) -> Child {
            var child = child
            for _ in 0..<16 {
                let node = Int(child.node)
                guard nodes[node].resource == resource, !nodes[node].hasUnevaluated, !nodes[node].isFalse,
                      nodeInstructions[node].count == 1, case .ref(let next) = nodeInstructions[node][0].operation
                else { break }
                child = Child(node: next.node, segment: segment(text: tables.segments[Int(child.segment)] + tables.segments[Int(next.segment)]))
            }
            return child
        }
        func targets(_ range: TableRange, from resource: Int32) {
            for position in range.range { tables.children[position] = target(tables.children[position], from: resource) }
        }
        for index in nodeInstructions.indices {
            let resource = nodes[index].resource
            for position in nodeInstructions[index].indices {
                switch nodeInstructions[index][position].operation {
                case .ref(let child):
                    nodeInstructions[index][position].operation = .ref(target(child, from: resource))
                case .propertyNames(let child):
                    nodeInstructions[index][position].operation = .propertyNames(target(child, from: resource))
                case .not(let child):
                    nodeInstructions[index][position].operation = .not(target(child, from: resource))
                case .unevaluatedProperties(let child):
                    nodeInstructions[index][position].operation = .unevaluatedProperties(target(child, from: resource))
                case .unevaluatedItems(let child):
                    nodeInstructions[index][position].operation = .unevaluatedItems(target(child, from: resource))
                case .items(let prefix, let rest):
                    targets(prefix, from: resource)
                    nodeInstructions[index][position].operation = .items(prefix: prefix, rest: rest.map { target($0, from: resource) })
                case .allOf(let range), .anyOf(let range), .oneOf(let range):
                    targets(range, from: resource)
                case .properties(let table):
                    let applicator = tables.applicators[Int(table)]
                    targets(applicator.namedChildren, from: resource)
                    for entry in applicator.patterns.range {
                        tables.patterns[entry].child = target(tables.patterns[entry].child, from: resource)
                    }
                    tables.applicators[Int(table)].additional = applicator.additional.map { target($0, from: resource) }
                case .contains(let table):
                    tables.containsRules[Int(table)].child = target(tables.containsRules[Int(table)].child, from: resource)
                case .conditional(let table):
                    let rule = tables.conditionals[Int(table)]
                    tables.conditionals[Int(table)] = ConditionalRule(condition: target(rule.condition, from: resource),
                                                                      then: rule.then.map { target($0, from: resource) },
                                                                      otherwise: rule.otherwise.map { target($0, from: resource) },
                                                                      conditionText: rule.conditionText)
                case .dependentSchemas(let table):
                    tables.dependentSchemas[Int(table)] = tables.dependentSchemas[Int(table)].map { ($0.0, target($0.1, from: resource)) }
                default:
                    break
                }
            }
        }
    }

    // MARK: - Cycles

    /// Refuses cycles of in-place applicators (`$ref`, `allOf`, …): they would evaluate the
    /// same instance forever.
    private func detectCycles() throws(SchemaError) {
        var color = [UInt8](repeating: 0, count: nodes.count)  // 0 new, 1 on stack, 2 done
        for start in nodes.indices where color[start] == 0 {
            var stack: [(node: Int, edge: Int)] = [(start, 0)]
            color[start] = 1
            while let top = stack.last {
                let edges = inPlaceEdges[top.node]
                if top.edge < edges.count {
                    stack[stack.count - 1].edge += 1
                    let next = edges[top.edge]
                    if color[next] == 1 {
                        let location = nodeLocations[next]
                        let resource = state.resources[state.enclosingResource(of: location)]
                        throw SchemaError(code: .referenceCycle, location: RegistryState.locationDescription(resource.uri, Array(location.pointer.dropFirst(resource.location.pointer.count))),
                                          message: "this schema applies itself to the same instance through a cycle of $ref or in-place keywords, which would never end")
                    }
                    if color[next] == 0 {
                        color[next] = 1
                        stack.append((next, 0))
                    }
                } else {
                    color[top.node] = 2
                    stack.removeLast()
                }
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
