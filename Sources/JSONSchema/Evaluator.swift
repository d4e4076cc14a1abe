import JSON

/// Applies a compiled schema to one instance. One evaluator per validation call; the
/// program it reads is shared and immutable.
///
/// `Schema.validate` runs up to two passes: a check, which stops at the first failure and
/// collects the annotations asked for (keeping paths only inside subschemas that can
/// annotate); then, if the instance is invalid, a report that records every error with its
/// locations.
///
/// Subschemas recurse through `evaluate`, bounded by `ValidationOptions.maxEvaluationDepth`.
/// Keywords that apply subschemas each have their own function, so that the frames on the
/// recursive path stay small; the assertions share one function off that path.
struct Evaluator {
    enum PathComponent {
        case key(String)
        case index(Int)
    }

    let program: SchemaProgram
    let nodes: UnsafeMutableBufferPointer<NodeHeader>
    let instructions: UnsafeMutableBufferPointer<Instruction>
    let children: UnsafeMutableBufferPointer<Child>
    /// Whether errors are recorded now (off while trying `anyOf` branches, `not`, `if`…).
    var collectErrors: Bool
    /// Whether this evaluator reports errors (and so keeps every path).
    let reporting: Bool
    /// Whether this evaluator collects annotations (and keeps paths where they can occur).
    let annotating: Bool
    let maxDepth: Int
    var depth = 0
    var depthExceeded = false
    var instancePath: [PathComponent] = []
    var keywordPath: [Int32] = []
    var dynamicScope: [Int32] = []
    var errors: [ValidationError] = []
    var annotations: [Annotation] = []

    /// An evaluator that checks (collecting annotations if `annotating`), or reports every
    /// error with its locations.
    init(program: SchemaProgram, reporting: Bool, annotating: Bool) {
        self.program = program
        nodes = program.nodes
        instructions = program.instructions
        children = program.children
        collectErrors = reporting
        self.reporting = reporting
        self.annotating = annotating
        maxDepth = program.options.maxEvaluationDepth
    }

    /// Validates `instance` from the root; the errors are recorded if reporting.
    mutating func run(_ instance: JSONValue) -> ValidationResult {
        let valid = evaluate(Int32(program.root), instance, nil)
        if depthExceeded {
            let error = ValidationError(instanceLocation: .root, keywordLocation: "", absoluteKeywordLocation: nil,
                                        message: "evaluation nests deeper than \(maxDepth) subschemas; the document is too deeply nested for this schema")
            return ValidationResult(isValid: false, errors: [error], annotations: [])
        }
        return ValidationResult(isValid: valid, errors: valid ? [] : errors, annotations: valid ? annotations : [])
    }

    /// Whether paths must be kept while evaluating `node`.
    @inline(__always)
    func tracksPaths(into node: Int32) -> Bool {
        reporting || (annotating && program.mayAnnotate[Int(node)])
    }

    // MARK: - Locations and errors

    var instancePointer: JSONPointer {
        JSONPointer(tokens: instancePath.map { component in
            switch component {
            case .key(let key): key
            case .index(let index): String(index)
            }
        })
    }

    func keywordLocation(_ segment: Int32) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        for piece in keywordPath { bytes += program.segmentBytes[Int(piece)] }
        bytes += program.segmentBytes[Int(segment)]
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func fail(_ instruction: Instruction, _ message: @autoclosure () -> String) {
        fail(segment: instruction.keyword, absolute: instruction.absolute, message())
    }

    mutating func fail(segment: Int32, absolute: Int32, _ message: @autoclosure () -> String) {
        guard collectErrors else { return }
        errors.append(ValidationError(instanceLocation: instancePointer, keywordLocation: keywordLocation(segment),
                                      absoluteKeywordLocation: program.absoluteLocations[Int(absolute)], message: message()))
    }

    /// Records an error at a child schema that is `false` (e.g. `additionalProperties: false`),
    /// located at the given property or item.
    mutating func failAtFalseChild(_ child: Child, _ component: PathComponent, _ message: @autoclosure () -> String) {
        guard collectErrors else { return }
        let header = nodes[Int(child.node)]
        let absolute = header.instructions.count > 0 ? instructions[Int(header.instructions.start)].absolute : 0
        instancePath.append(component)
        errors.append(ValidationError(instanceLocation: instancePointer, keywordLocation: keywordLocation(child.segment),
                                      absoluteKeywordLocation: program.absoluteLocations[Int(absolute)], message: message()))
        instancePath.removeLast()
    }

    /// Runs `body` without recording errors.
    @inline(__always)
    mutating func quietly<T>(_ body: (inout Evaluator) -> T) -> T {
        let saved = collectErrors
        collectErrors = false
        defer { collectErrors = saved }
        return body(&self)
    }

    // MARK: - Nodes

    /// Evaluates a node against `instance`. `parent`, if not nil, collects what the node
    /// evaluated (for `unevaluated*` of an enclosing schema) when it succeeds.
    mutating func evaluate(_ index: Int32, _ instance: JSONValue, _ parent: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        let node = nodes[Int(index)]
        if node.instructions.count == 0 { return true }
        if depthExceeded { return false }
        guard depth < maxDepth else {
            depthExceeded = true
            return false
        }
        depth += 1
        let enters = program.usesDynamicScope && dynamicScope.last != node.resource
        if enters { dynamicScope.append(node.resource) }
        let annotationMark = annotating ? annotations.count : 0
        let valid: Bool
        if parent != nil || node.hasUnevaluated {
            var local = EvaluatedSet()
            valid = withUnsafeMutablePointer(to: &local) { run(node.instructions, instance, $0) }
            if valid, let parent { parent.pointee.merge(local) }
        } else {
            valid = run(node.instructions, instance, nil)
        }
        if enters { dynamicScope.removeLast() }
        depth -= 1
        if annotating, !valid, annotations.count > annotationMark {
            // Annotations of a failed subschema are dropped.
            annotations.removeSubrange(annotationMark...)
        }
        return valid && !depthExceeded
    }

    @inline(__always)
    private mutating func run(_ range: TableRange, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var valid = true
        for position in range.range where !execute(instructions[position], instance, evaluated) {
            valid = false
            if !collectErrors { break }
        }
        return valid
    }

    /// Applies a subschema to the same instance location.
    @inline(__always)
    mutating func applyInPlace(_ child: Child, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        let tracks = tracksPaths(into: child.node)
        if tracks { keywordPath.append(child.segment) }
        let valid = evaluate(child.node, instance, evaluated)
        if tracks { keywordPath.removeLast() }
        return valid
    }

    /// Applies a subschema to a property's value or an array element.
    @inline(__always)
    mutating func apply(_ child: Child, _ value: JSONValue, at component: @autoclosure () -> PathComponent) -> Bool {
        if nodes[Int(child.node)].instructions.count == 0 { return true }
        let tracks = tracksPaths(into: child.node)
        if tracks {
            keywordPath.append(child.segment)
            instancePath.append(component())
        }
        let valid = evaluate(child.node, value, nil)
        if tracks {
            instancePath.removeLast()
            keywordPath.removeLast()
        }
        return valid
    }

    @inline(__always)
    private mutating func execute(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        switch instruction.operation {
        case .type(let mask):
            // The commonest keyword, checked here without a call unless it fails.
            let matches: Bool
            switch instance {
            case .null: matches = mask.contains(.null)
            case .bool: matches = mask.contains(.boolean)
            case .string: matches = mask.contains(.string)
            case .array: matches = mask.contains(.array)
            case .object: matches = mask.contains(.object)
            case .number(let number): matches = mask.contains(.number) || (mask.contains(.integer) && number.isInteger)
            }
            return matches || assertLeaf(instruction, instance)
        case .properties(let table):
            guard case .object(let object) = instance else { return true }
            return applyProperties(instruction, Int(table), object, evaluated)
        case .items(let prefix, let rest):
            guard case .array(let elements) = instance else { return true }
            return applyItems(prefix, rest, elements, evaluated)
        case .ref(let child):
            return applyInPlace(child, instance, evaluated)
        case .allOf(let range):
            return applyAllOf(range, instance, evaluated)
        case .anyOf(let range):
            return applyAnyOf(instruction, range, instance, evaluated)
        case .oneOf(let range):
            return applyOneOf(instruction, range, instance, evaluated)
        case .not(let child):
            return applyNot(instruction, child, instance)
        case .conditional(let table):
            return applyConditional(Int(table), instance, evaluated)
        case .dynamicRef(let child, let anchor):
            return applyDynamicRef(child, Int(anchor), instance, evaluated)
        case .contains(let table):
            guard case .array(let elements) = instance else { return true }
            return applyContains(instruction, Int(table), elements, evaluated)
        case .propertyNames(let child):
            guard case .object(let object) = instance else { return true }
            return applyPropertyNames(child, object)
        case .dependentSchemas(let table):
            guard case .object(let object) = instance else { return true }
            return applyDependentSchemas(Int(table), object, instance, evaluated)
        case .unevaluatedProperties(let child):
            guard case .object(let object) = instance else { return true }
            return applyUnevaluatedProperties(child, object, evaluated)
        case .unevaluatedItems(let child):
            guard case .array(let elements) = instance else { return true }
            return applyUnevaluatedItems(child, elements, evaluated)
        case .annotation(let table):
            if annotating {
                let (keyword, value) = program.annotations[Int(table)]
                annotations.append(Annotation(instanceLocation: instancePointer, keyword: keyword,
                                              keywordLocation: keywordLocation(instruction.keyword), value: value))
            }
            return true
        default:
            return assertLeaf(instruction, instance)
        }
    }
}
