import JSON

/// Applies a compiled schema to one instance. One evaluator per validation call; the
/// program it reads is shared and immutable.
struct Evaluator {
    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    private let program: SchemaProgram
    private let nodes: [SchemaNode]
    /// Whether errors are recorded now (off while trying `anyOf` branches, `not`, `if`…).
    private var collectErrors: Bool
    private let collectAnnotations: Bool
    private let maxDepth: Int
    private var depth = 0
    private var depthExceeded = false
    private var instancePath: [PathComponent] = []
    private var keywordPath: [Int] = []
    private var dynamicScope: [Int] = []
    private var errors: [ValidationError] = []
    private var annotations: [Annotation] = []

    init(program: SchemaProgram, collectErrors: Bool, collectAnnotations: Bool) {
        self.program = program
        nodes = program.nodes
        self.collectErrors = collectErrors
        self.collectAnnotations = collectAnnotations
        maxDepth = program.options.maxEvaluationDepth
    }

    mutating func run(_ instance: JSONValue) -> ValidationResult {
        var evaluated = EvaluatedSet.untracked
        let valid = evaluate(program.root, instance, &evaluated)
        if depthExceeded {
            let error = ValidationError(instanceLocation: .root, keywordLocation: "", absoluteKeywordLocation: nil,
                                        message: "evaluation nests deeper than \(maxDepth) subschemas; the document is too deeply nested for this schema")
            return ValidationResult(isValid: false, errors: [error], annotations: [])
        }
        return ValidationResult(isValid: valid, errors: valid ? [] : errors, annotations: valid ? annotations : [])
    }

    // MARK: - Locations

    private var instancePointer: JSONPointer {
        JSONPointer(tokens: instancePath.map { component in
            switch component {
            case .key(let key): key
            case .index(let index): String(index)
            }
        })
    }

    private func keywordLocation(_ segment: Int) -> String {
        var text = ""
        for piece in keywordPath { text += program.segments[piece] }
        return text + program.segments[segment]
    }

    private mutating func fail(_ instruction: Instruction, _ message: @autoclosure () -> String) {
        guard collectErrors else { return }
        errors.append(ValidationError(instanceLocation: instancePointer, keywordLocation: keywordLocation(instruction.keyword),
                                      absoluteKeywordLocation: program.absoluteLocations[instruction.absolute], message: message()))
    }

    /// Records an error located at a child schema that is `false` (e.g. `additionalProperties: false`).
    private mutating func failAtFalseChild(_ child: Child, _ message: @autoclosure () -> String) {
        guard collectErrors else { return }
        let absolute = nodes[child.node].instructions.first.flatMap { program.absoluteLocations[$0.absolute] }
        errors.append(ValidationError(instanceLocation: instancePointer, keywordLocation: keywordLocation(child.segment),
                                      absoluteKeywordLocation: absolute, message: message()))
    }

    /// Runs `body` without recording errors.
    private mutating func quietly<T>(_ body: (inout Evaluator) -> T) -> T {
        let saved = collectErrors
        collectErrors = false
        defer { collectErrors = saved }
        return body(&self)
    }

    // MARK: - Nodes

    private mutating func evaluate(_ index: Int, _ instance: JSONValue, _ parent: inout EvaluatedSet) -> Bool {
        let node = nodes[index]
        if node.instructions.isEmpty { return true }
        if depthExceeded { return false }
        guard depth < maxDepth else {
            depthExceeded = true
            return false
        }
        depth += 1
        let enters = dynamicScope.last != node.resource
        if enters { dynamicScope.append(node.resource) }
        var local = EvaluatedSet(tracking: parent.tracking || node.hasUnevaluated)
        let annotationMark = annotations.count
        var valid = true
        for instruction in node.instructions where !execute(instruction, instance, &local) {
            valid = false
            if !collectErrors { break }
        }
        if enters { dynamicScope.removeLast() }
        depth -= 1
        if valid {
            parent.merge(local)
        } else if annotations.count > annotationMark {
            annotations.removeSubrange(annotationMark...)
        }
        return valid && !depthExceeded
    }

    /// Applies a subschema to the same instance location.
    private mutating func applyInPlace(_ child: Child, _ instance: JSONValue, _ evaluated: inout EvaluatedSet) -> Bool {
        keywordPath.append(child.segment)
        defer { keywordPath.removeLast() }
        return evaluate(child.node, instance, &evaluated)
    }

    /// Applies a subschema to a property's value.
    private mutating func apply(_ child: Child, _ value: JSONValue, key: String) -> Bool {
        if nodes[child.node].instructions.isEmpty { return true }
        keywordPath.append(child.segment)
        instancePath.append(.key(key))
        var evaluated = EvaluatedSet.untracked
        let valid = evaluate(child.node, value, &evaluated)
        instancePath.removeLast()
        keywordPath.removeLast()
        return valid
    }

    /// Applies a subschema to an array element.
    private mutating func apply(_ child: Child, _ value: JSONValue, index: Int) -> Bool {
        if nodes[child.node].instructions.isEmpty { return true }
        keywordPath.append(child.segment)
        instancePath.append(.index(index))
        var evaluated = EvaluatedSet.untracked
        let valid = evaluate(child.node, value, &evaluated)
        instancePath.removeLast()
        keywordPath.removeLast()
        return valid
    }

    // MARK: - Keywords

    private static func typeName(_ instance: JSONValue) -> String {
        if case .number(let number) = instance, number.isInteger { return "integer" }
        return instance.typeName
    }

    private static func schemaValueText(_ value: JSONValue) -> String? {
        let text = value.serializedString()
        return text.utf8.count <= 60 ? text : nil
    }

    private mutating func execute(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet) -> Bool {
        // Keywords that apply subschemas each get their own function, so that the frames on
        // the recursive path stay small; the assertions share one function off that path.
        switch instruction.operation {
        case .properties(let applicator):
            return runProperties(instruction, instance, &evaluated, applicator)
        case .propertyNames(let child):
            return runPropertyNames(instruction, instance, &evaluated, child)
        case .dependentSchemas(let dependents):
            return runDependentSchemas(instruction, instance, &evaluated, dependents)
        case .items(let prefix, let rest):
            return runItems(instruction, instance, &evaluated, prefix, rest)
        case .contains(let child, let minimum, let maximum, let minimumKeyword, let maximumKeyword):
            return runContains(instruction, instance, &evaluated, child, minimum, maximum, minimumKeyword, maximumKeyword)
        case .allOf(let children):
            return runAllOf(instruction, instance, &evaluated, children)
        case .anyOf(let children):
            return runAnyOf(instruction, instance, &evaluated, children)
        case .oneOf(let children):
            return runOneOf(instruction, instance, &evaluated, children)
        case .not(let child):
            return runNot(instruction, instance, &evaluated, child)
        case .conditional(let condition, let then, let otherwise):
            return runConditional(instruction, instance, &evaluated, condition, then, otherwise)
        case .ref(let child):
            return runRef(instruction, instance, &evaluated, child)
        case .dynamicRef(let child, let anchor):
            return runDynamicRef(instruction, instance, &evaluated, child, anchor)
        case .unevaluatedProperties(let child):
            return runUnevaluatedProperties(instruction, instance, &evaluated, child)
        case .unevaluatedItems(let child):
            return runUnevaluatedItems(instruction, instance, &evaluated, child)
        default:
            return assertLeaf(instruction, instance)
        }
    }

    @inline(never)
    private mutating func runProperties(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ applicator: PropertyApplicator) -> Bool {
        guard case .object(let object) = instance else { return true }
        return applyProperties(applicator, object, &evaluated)
    }

    @inline(never)
    private mutating func runPropertyNames(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        keywordPath.append(child.segment)
        for key in object.keys {
            var ignored = EvaluatedSet.untracked
            if !evaluate(child.node, .string(key), &ignored) {
                valid = false
                if !collectErrors { break }
            }
        }
        keywordPath.removeLast()
        return valid
    }

    @inline(never)
    private mutating func runDependentSchemas(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ dependents: [(String, Child)]) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (trigger, child) in dependents where object.contains(trigger) {
            if !applyInPlace(child, instance, &evaluated) {
                valid = false
                if !collectErrors { break }
            }
        }
        return valid
    }

    @inline(never)
    private mutating func runItems(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ prefix: [Child], _ rest: Child?) -> Bool {
        guard case .array(let elements) = instance else { return true }
        var valid = true
        for (position, element) in elements.enumerated() {
            let child: Child
            if position < prefix.count {
                child = prefix[position]
            } else if let rest {
                child = rest
            } else {
                break
            }
            if nodes[child.node].isFalse {
                instancePath.append(.index(position))
                failAtFalseChild(child, "array has more items than the \(prefix.count) the schema allows")
                instancePath.removeLast()
                valid = false
                if !collectErrors { break }
            } else if !apply(child, element, index: position) {
                valid = false
                if !collectErrors { break }
            }
            evaluated.markItem(position)
        }
        return valid
    }

    @inline(never)
    private mutating func runContains(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child, _ minimum: Int, _ maximum: Int?, _ minimumKeyword: Int, _ maximumKeyword: Int) -> Bool {
        guard case .array(let elements) = instance else { return true }
        var count = 0
        let exhaustive = evaluated.tracking || collectAnnotations || maximum != nil
        for (position, element) in elements.enumerated() {
            if quietly({ $0.apply(child, element, index: position) }) {
                count += 1
                evaluated.markItem(position)
                if !exhaustive, count >= minimum { break }
            }
        }
        if count < minimum {
            if collectErrors {
                errors.append(ValidationError(instanceLocation: instancePointer, keywordLocation: keywordLocation(minimumKeyword),
                                              absoluteKeywordLocation: program.absoluteLocations[instruction.absolute],
                                              message: "array must contain at least \(minimum) item\(minimum == 1 ? "" : "s") matching the contains schema, but has \(count)"))
            }
            return false
        }
        if let maximum, count > maximum {
            if collectErrors {
                errors.append(ValidationError(instanceLocation: instancePointer, keywordLocation: keywordLocation(maximumKeyword),
                                              absoluteKeywordLocation: program.absoluteLocations[instruction.absolute],
                                              message: "array must contain at most \(maximum) item\(maximum == 1 ? "" : "s") matching the contains schema, but has \(count)"))
            }
            return false
        }
        return true
    }

    @inline(never)
    private mutating func runAllOf(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ children: [Child]) -> Bool {
        var valid = true
        for child in children where !applyInPlace(child, instance, &evaluated) {
            valid = false
            if !collectErrors { break }
        }
        return valid
    }

    @inline(never)
    private mutating func runAnyOf(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ children: [Child]) -> Bool {
        let exhaustive = evaluated.tracking || collectAnnotations
        var matched = false
        quietly { evaluator in
            for child in children where evaluator.applyInPlace(child, instance, &evaluated) {
                matched = true
                if !exhaustive { break }
            }
        }
        if matched { return true }
        if collectErrors {
            for child in children {
                var ignored = EvaluatedSet.untracked
                _ = applyInPlace(child, instance, &ignored)
            }
            fail(instruction, "must match at least one of the \(children.count) schemas in anyOf")
        }
        return false
    }

    @inline(never)
    private mutating func runOneOf(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ children: [Child]) -> Bool {
        let exhaustive = evaluated.tracking || collectAnnotations || collectErrors
        var matches: [Int] = []
        quietly { evaluator in
            for (position, child) in children.enumerated() where evaluator.applyInPlace(child, instance, &evaluated) {
                matches.append(position)
                if !exhaustive, matches.count > 1 { break }
            }
        }
        if matches.count == 1 { return true }
        if collectErrors {
            if matches.isEmpty {
                for child in children {
                    var ignored = EvaluatedSet.untracked
                    _ = applyInPlace(child, instance, &ignored)
                }
                fail(instruction, "must match exactly one of the \(children.count) schemas in oneOf, but matches none")
            } else {
                let list = matches.map(String.init).joined(separator: ", ")
                fail(instruction, "must match exactly one of the \(children.count) schemas in oneOf, but matches \(matches.count) (at positions \(list))")
            }
        }
        return false
    }

    @inline(never)
    private mutating func runNot(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child) -> Bool {
        let annotationMark = annotations.count
        var ignored = EvaluatedSet.untracked
        if quietly({ $0.applyInPlace(child, instance, &ignored) }) {
            if annotations.count > annotationMark { annotations.removeSubrange(annotationMark...) }
            fail(instruction, "must not match the schema in not")
            return false
        }
        return true
    }

    @inline(never)
    private mutating func runConditional(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ condition: Child, _ then: Child?, _ otherwise: Child?) -> Bool {
        if quietly({ $0.applyInPlace(condition, instance, &evaluated) }) {
            if let then { return applyInPlace(then, instance, &evaluated) }
        } else if let otherwise {
            return applyInPlace(otherwise, instance, &evaluated)
        }
        return true
    }

    @inline(never)
    private mutating func runRef(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child) -> Bool {
        return applyInPlace(child, instance, &evaluated)
    }

    @inline(never)
    private mutating func runDynamicRef(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child, _ anchor: String) -> Bool {
        var target = child.node
        for resource in dynamicScope {
            if let node = program.resources[resource].dynamicAnchors[anchor] {
                target = node
                break
            }
        }
        return applyInPlace(Child(node: target, segment: child.segment), instance, &evaluated)
    }

    @inline(never)
    private mutating func runUnevaluatedProperties(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        let isFalse = nodes[child.node].isFalse
        for position in 0..<object.count where !evaluated.isPropertyEvaluated(position) {
            let (key, value) = object.member(at: position)
            if isFalse {
                instancePath.append(.key(key))
                failAtFalseChild(child, "property is not allowed here (no schema evaluates it, and unevaluatedProperties is false)")
                instancePath.removeLast()
                valid = false
            } else if !apply(child, value, key: key) {
                valid = false
            }
            if !valid, !collectErrors { break }
            evaluated.markProperty(position)
        }
        return valid
    }

    @inline(never)
    private mutating func runUnevaluatedItems(_ instruction: Instruction, _ instance: JSONValue, _ evaluated: inout EvaluatedSet, _ child: Child) -> Bool {
        guard case .array(let elements) = instance else { return true }
        var valid = true
        let isFalse = nodes[child.node].isFalse
        for position in elements.indices where !evaluated.isItemEvaluated(position) {
            if isFalse {
                instancePath.append(.index(position))
                failAtFalseChild(child, "array item is not allowed here (no schema evaluates it, and unevaluatedItems is false)")
                instancePath.removeLast()
                valid = false
            } else if !apply(child, elements[position], index: position) {
                valid = false
            }
            if !valid, !collectErrors { break }
            evaluated.markItem(position)
        }
        return valid
    }

    /// The keywords that assert something of the instance itself (no subschemas).
    @inline(never)
    private mutating func assertLeaf(_ instruction: Instruction, _ instance: JSONValue) -> Bool {
        switch instruction.operation {
        case .alwaysFalse:
            fail(instruction, "no value is allowed here (the schema is false)")
            return false

        case .type(let mask):
            let matches: Bool
            switch instance {
            case .null: matches = mask.contains(.null)
            case .bool: matches = mask.contains(.boolean)
            case .string: matches = mask.contains(.string)
            case .array: matches = mask.contains(.array)
            case .object: matches = mask.contains(.object)
            case .number(let number): matches = mask.contains(.number) || (mask.contains(.integer) && number.isInteger)
            }
            if !matches { fail(instruction, "must be \(mask.description), but is \(Self.typeName(instance))") }
            return matches

        case .constant(let value):
            guard instance == value else {
                fail(instruction, Self.schemaValueText(value).map { "must be equal to \($0)" } ?? "must be equal to the constant in the schema")
                return false
            }
            return true

        case .enumeration(let values, let set):
            let found = values.count <= 8 ? values.contains(instance) : set.contains(instance)
            if !found {
                fail(instruction, {
                    let list = values.map { $0.serializedString() }.joined(separator: ", ")
                    let count = values.count == 1 ? "the 1 allowed value" : "one of the \(values.count) allowed values"
                    return list.utf8.count <= 120 ? "must be \(count): \(list)" : "must be \(count)"
                }())
            }
            return found

        case .multipleOf(let divisor):
            guard case .number(let number) = instance else { return true }
            guard number.isMultiple(of: divisor) else {
                fail(instruction, "must be a multiple of \(divisor)")
                return false
            }
            return true

        case .maximum(let limit, let exclusive):
            guard case .number(let number) = instance else { return true }
            let comparison = JSONNumber.compare(number, limit)
            guard comparison < 0 || (comparison == 0 && !exclusive) else {
                fail(instruction, exclusive ? "must be less than \(limit)" : "must be at most \(limit)")
                return false
            }
            return true

        case .minimum(let limit, let exclusive):
            guard case .number(let number) = instance else { return true }
            let comparison = JSONNumber.compare(number, limit)
            guard comparison > 0 || (comparison == 0 && !exclusive) else {
                fail(instruction, exclusive ? "must be greater than \(limit)" : "must be at least \(limit)")
                return false
            }
            return true

        case .maxLength(let limit):
            guard case .string(let string) = instance else { return true }
            if string.utf8.count <= limit { return true }
            guard string.unicodeScalars.count <= limit else {
                fail(instruction, "string is longer than \(limit) character\(limit == 1 ? "" : "s")")
                return false
            }
            return true

        case .minLength(let limit):
            guard case .string(let string) = instance else { return true }
            guard string.utf8.count >= limit, string.unicodeScalars.count >= limit else {
                fail(instruction, "string is shorter than \(limit) character\(limit == 1 ? "" : "s")")
                return false
            }
            return true

        case .pattern(let regex):
            guard case .string(let string) = instance else { return true }
            guard regex.matches(string) else {
                fail(instruction, "string does not match the pattern \(regex.source)")
                return false
            }
            return true

        case .format(let format):
            guard case .string(let string) = instance else { return true }
            guard format.isValid(string) else {
                fail(instruction, "string is not a valid \(format.noun)")
                return false
            }
            return true

        case .maxItems(let limit):
            guard case .array(let elements) = instance else { return true }
            guard elements.count <= limit else {
                fail(instruction, "array has more than \(limit) item\(limit == 1 ? "" : "s")")
                return false
            }
            return true

        case .minItems(let limit):
            guard case .array(let elements) = instance else { return true }
            guard elements.count >= limit else {
                fail(instruction, "array has fewer than \(limit) item\(limit == 1 ? "" : "s")")
                return false
            }
            return true

        case .uniqueItems:
            guard case .array(let elements) = instance, elements.count > 1 else { return true }
            if let (first, second) = Self.firstDuplicate(elements) {
                fail(instruction, "array items \(first) and \(second) are equal; items must be unique")
                return false
            }
            return true

        case .maxProperties(let limit):
            guard case .object(let object) = instance else { return true }
            guard object.count <= limit else {
                fail(instruction, "object has more than \(limit) propert\(limit == 1 ? "y" : "ies")")
                return false
            }
            return true

        case .minProperties(let limit):
            guard case .object(let object) = instance else { return true }
            guard object.count >= limit else {
                fail(instruction, "object has fewer than \(limit) propert\(limit == 1 ? "y" : "ies")")
                return false
            }
            return true

        case .required(let names):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for name in names where !object.contains(name) {
                valid = false
                guard collectErrors else { break }
                fail(instruction, "missing required property '\(name)'")
            }
            return valid

        case .dependentRequired(let requirements):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for (trigger, names) in requirements where object.contains(trigger) {
                for name in names where !object.contains(name) {
                    valid = false
                    guard collectErrors else { return false }
                    fail(instruction, "property '\(name)' is required when '\(trigger)' is present")
                }
            }
            return valid

        case .annotation(let keyword, let value):
            if collectAnnotations {
                annotations.append(Annotation(instanceLocation: instancePointer, keyword: keyword,
                                              keywordLocation: keywordLocation(instruction.keyword), value: value))
            }
            return true
        default:
            preconditionFailure("applicators are dispatched by execute")
        }
    }

    private mutating func applyProperties(_ applicator: PropertyApplicator, _ object: JSONObject, _ evaluated: inout EvaluatedSet) -> Bool {
        var valid = true
        if applicator.patterns.isEmpty, applicator.additional == nil, !evaluated.tracking {
            // Only named properties: look each one up.
            for (name, child) in applicator.namedInOrder {
                guard let position = object.position(of: name) else { continue }
                if nodes[child.node].isFalse {
                    instancePath.append(.key(name))
                    failAtFalseChild(child, "property is not allowed")
                    instancePath.removeLast()
                    valid = false
                } else if !apply(child, object.member(at: position).value, key: name) {
                    valid = false
                }
                if !valid, !collectErrors { return false }
            }
            return valid
        }
        for position in 0..<object.count {
            let (key, value) = object.member(at: position)
            var matched = false
            if let child = applicator.named[ExactString(key)] {
                matched = true
                if nodes[child.node].isFalse {
                    instancePath.append(.key(key))
                    failAtFalseChild(child, "property is not allowed")
                    instancePath.removeLast()
                    valid = false
                } else if !apply(child, value, key: key) {
                    valid = false
                }
            }
            for (regex, child) in applicator.patterns where regex.matches(key) {
                matched = true
                if !apply(child, value, key: key) { valid = false }
            }
            if !matched, let child = applicator.additional {
                matched = true
                if nodes[child.node].isFalse {
                    instancePath.append(.key(key))
                    failAtFalseChild(child, "property is not allowed (the schema does not declare it, and additionalProperties is false)")
                    instancePath.removeLast()
                    valid = false
                } else if !apply(child, value, key: key) {
                    valid = false
                }
            }
            if matched { evaluated.markProperty(position) }
            if !valid, !collectErrors { return false }
        }
        return valid
    }

    /// The positions of the first two equal elements, if any.
    private static func firstDuplicate(_ elements: [JSONValue]) -> (Int, Int)? {
        if elements.count <= 16 {
            for second in 1..<elements.count {
                for first in 0..<second where elements[first] == elements[second] {
                    return (first, second)
                }
            }
            return nil
        }
        var seen: [JSONValue: Int] = [:]
        seen.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            if let first = seen[element] { return (first, position) }
            seen[element] = position
        }
        return nil
    }
}
