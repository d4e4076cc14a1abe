import Exchange
import JSON

/// What the referral schemas of a catalog (`urn:refex:schema:referral:*`) let a referral hold:
/// the JSON Pointers a document valid against one of them can have, and the special categories
/// they mark (`x-refex-category`). Read from the schemas' documents (`properties`, `items`,
/// `$ref`, `$defs`, `allOf`, `anyOf`, `oneOf`, `then`, `else`), erring towards "can": it exists
/// to catch a recipient setting that could never select anything, not to refuse a possible one.
struct ReferralSchemaShape {
    static let idPrefix = "urn:refex:schema:referral:"
    /// How many `$ref`s one step may follow before the shape counts as unknown (a cycle).
    private static let maxReferences = 64
    /// How many subschemas one step may consider before the shape counts as unknown.
    private static let maxCandidates = 4096

    /// The referral schemas' ids, sorted.
    let ids: [String]
    /// Every category any of them marks.
    let categories: Set<String>
    private let documents: SchemaDocuments
    private let roots: [SchemaDocuments.Node]

    init(catalog: SchemaCatalog) {
        let documents = SchemaDocuments(catalog: catalog)
        let ids = catalog.ids.filter { $0.hasPrefix(Self.idPrefix) }
        let roots = ids.compactMap { documents.root($0) }
        var categories: Set<String> = []
        var visited: Set<String> = []
        for root in roots { Self.collectCategories(root, documents, &visited, into: &categories) }
        self.documents = documents
        self.ids = ids
        self.roots = roots
        self.categories = categories
    }

    /// Whether some referral schema lets a referral hold a value at `pointer`, where a `*` token
    /// stands for any member or index (as in a recipient's `fields`).
    func produces(_ pointer: JSONPointer) -> Bool {
        // One step per token, over every subschema that may hold the value so far: no recursion
        // as deep as a (hostile) pointer is long.
        var frontier = roots
        for token in pointer.tokens {
            var next: [SchemaDocuments.Node] = []
            for node in frontier {
                switch children(of: node, token, references: 0) {
                case .none: continue
                case .any: return true
                case .some(let nodes): next += nodes
                }
            }
            guard !next.isEmpty else { return false }
            // So many candidates that the shape is beyond telling: count it as possible.
            guard next.count <= Self.maxCandidates else { return true }
            frontier = next
        }
        return !frontier.isEmpty
    }

    /// What a schema allows below a value at one member or index.
    private enum Children {
        /// Nothing: the schema closes it, or the value is a scalar.
        case none
        /// Anything: the schema does not say.
        case any
        /// Whatever these subschemas allow.
        case some([SchemaDocuments.Node])

        /// Both must allow it.
        func and(_ other: Children) -> Children {
            switch (self, other) {
            case (.none, _), (_, .none): .none
            case (.any, let x), (let x, .any): x
            case (.some(let a), .some(let b)): .some(a + b)
            }
        }

        /// Either may allow it.
        func or(_ other: Children) -> Children {
            switch (self, other) {
            case (.any, _), (_, .any): .any
            case (.none, let x), (let x, .none): x
            case (.some(let a), .some(let b)): .some(a + b)
            }
        }
    }

    private func children(of node: SchemaDocuments.Node, _ token: String, references: Int) -> Children {
        guard references < Self.maxReferences else { return .any }
        guard case .object(let schema) = node.value else { return node.value == .bool(false) ? .none : .any }
        func at(_ value: JSONValue) -> SchemaDocuments.Node { SchemaDocuments.Node(value: value, base: node.base) }
        var result = ownChildren(schema, token, at)
        if let reference = schema["$ref"]?.stringValue {
            let target = documents.resolve(reference, from: node.base)
            result = result.and(target.map { children(of: $0, token, references: references + 1) } ?? .any)
        }
        for member in schema["allOf"]?.arrayValue ?? [] {
            result = result.and(children(of: at(member), token, references: references + 1))
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let branches = schema[keyword]?.arrayValue, !branches.isEmpty else { continue }
            result = result.and(branches.map { children(of: at($0), token, references: references + 1) }.reduce(.none) { $0.or($1) })
        }
        if schema["then"] != nil || schema["else"] != nil {
            let then = schema["then"].map { children(of: at($0), token, references: references + 1) } ?? .any
            let otherwise = schema["else"].map { children(of: at($0), token, references: references + 1) } ?? .any
            result = result.and(then.or(otherwise))
        }
        return result
    }

    /// What one schema object's own keywords allow below `token`.
    private func ownChildren(_ schema: JSONObject, _ token: String, _ at: (JSONValue) -> SchemaDocuments.Node) -> Children {
        let properties = schema["properties"]?.objectValue
        let patterns = schema["patternProperties"]?.objectValue
        let additional = schema["additionalProperties"]
        let items = schema["items"]
        let prefixItems = schema["prefixItems"]?.arrayValue
        let structural = properties != nil || patterns != nil || additional != nil || items != nil || prefixItems != nil
        guard structural else { return Self.isScalar(schema) ? .none : .any }
        var nodes: [SchemaDocuments.Node] = []
        var open = false
        func add(_ value: JSONValue?) {
            guard let value, value != .bool(false) else { return }
            if value == .bool(true) { open = true } else { nodes.append(at(value)) }
        }
        let isIndex = token == "*" || (UInt(token) != nil)
        if token == "*" {
            for value in properties?.values ?? [] { add(value) }
        } else {
            add(properties?[token])
        }
        if token == "*" || properties?[token] == nil {
            for value in patterns?.values ?? [] { add(value) }
            add(additional)
            // Without additionalProperties, an object may hold members the schema does not name.
            if additional == nil && Self.mayBe("object", schema) { open = true }
        }
        if isIndex {
            for value in prefixItems ?? [] { add(value) }
            add(items)
            if items == nil && prefixItems == nil && Self.mayBe("array", schema) { open = true }
        }
        if open { return .any }
        return nodes.isEmpty ? .none : .some(nodes)
    }

    /// Whether the schema's `type` allows `type` (a schema without one allows every type).
    private static func mayBe(_ type: String, _ schema: JSONObject) -> Bool {
        switch schema["type"] {
        case .string(let name)?: name == type
        case .array(let names)?: names.contains(.string(type))
        default: true
        }
    }

    /// Whether the schema allows only scalars (by `type`, `enum` or `const`).
    private static func isScalar(_ schema: JSONObject) -> Bool {
        func scalar(_ value: JSONValue) -> Bool { value.objectValue == nil && value.arrayValue == nil }
        if schema["type"] != nil { return !mayBe("object", schema) && !mayBe("array", schema) }
        if let values = schema["enum"]?.arrayValue { return values.allSatisfy(scalar) }
        if let value = schema["const"] { return scalar(value) }
        return false
    }

    private static func collectCategories(
        _ node: SchemaDocuments.Node, _ documents: SchemaDocuments, _ visited: inout Set<String>, into categories: inout Set<String>
    ) {
        switch node.value {
        case .object(let schema):
            if let category = schema[SchemaCatalog.categoryKeyword]?.stringValue { categories.insert(category) }
            if let reference = schema["$ref"]?.stringValue, visited.insert("\(node.base) \(reference)").inserted,
               let target = documents.resolve(reference, from: node.base) {
                collectCategories(target, documents, &visited, into: &categories)
            }
            // Instance values (enum, const, examples, default) are not schemas.
            for (key, value) in schema where !["enum", "const", "examples", "default"].contains(key) {
                collectCategories(SchemaDocuments.Node(value: value, base: node.base), documents, &visited, into: &categories)
            }
        case .array(let items):
            for item in items { collectCategories(SchemaDocuments.Node(value: item, base: node.base), documents, &visited, into: &categories) }
        default:
            return
        }
    }
}
