import JSON

extension Evaluator {
    @inline(never)
    mutating func applyProperties(_ instruction: Instruction, _ table: Int, _ object: JSONObject, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        let applicator = program.applicators[table]
        var valid = true
        for position in 0..<object.count {
            let key = object.key(at: position)
            var matched = false
            let fingerprint = object.keyFingerprint(at: position)
            if let named = applicator.named._withUnsafeGuaranteedRef({ $0.index(of: key, fingerprint: fingerprint) }) {
                matched = true
                let child = children[Int(applicator.namedChildren.start) + named]
                if nodes[Int(child.node)].isFalse {
                    failAtFalseChild(child, .key(key), "property is not allowed")
                    valid = false
                } else if !apply(child, object.value(at: position), at: .key(key)) {
                    valid = false
                }
            }
            for entry in applicator.patterns.range {
                let pattern = program.patterns[entry]
                if program.regexes[Int(pattern.regex)]._withUnsafeGuaranteedRef({ $0.matches(key) }) {
                    matched = true
                    if !apply(pattern.child, object.value(at: position), at: .key(key)) { valid = false }
                }
            }
            if !matched, let child = applicator.additional {
                matched = true
                if nodes[Int(child.node)].isFalse {
                    failAtFalseChild(child, .key(key), "property is not allowed (the schema does not declare it, and additionalProperties is false)")
                    valid = false
                } else if !apply(child, object.value(at: position), at: .key(key)) {
                    valid = false
                }
            }
            if matched { evaluated?.pointee.markProperty(position) }
            if !valid, !collectErrors { return false }
        }
        return valid
    }

    @inline(never)
    mutating func applyItems(_ prefix: TableRange, _ rest: Child?, _ elements: [JSONValue], _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var valid = true
        let prefixCount = Int(prefix.count)
        for (position, element) in elements.enumerated() {
            let child: Child
            if position < prefixCount {
                child = children[Int(prefix.start) + position]
            } else if let rest {
                child = rest
            } else {
                break
            }
            if nodes[Int(child.node)].isFalse {
                failAtFalseChild(child, .index(position), "array has more items than the \(prefixCount) the schema allows")
                valid = false
            } else if !apply(child, element, at: .index(position)) {
                valid = false
            }
            evaluated?.pointee.markItem(position)
            if !valid, !collectErrors { break }
        }
        return valid
    }

    @inline(never)
    mutating func applyAllOf(_ range: TableRange, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var valid = true
        for position in range.range where !applyInPlace(children[position], instance, evaluated) {
            valid = false
            if !collectErrors { break }
        }
        return valid
    }

    @inline(never)
    mutating func applyAnyOf(_ instruction: Instruction, _ range: TableRange, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        // All branches must run when the properties they evaluate, or their annotations, matter.
        let exhaustive = evaluated != nil || annotating
        let children = self.children
        let matched = quietly { evaluator in
            var matched = false
            for position in range.range where evaluator.applyInPlace(children[position], instance, evaluated) {
                matched = true
                if !exhaustive { break }
            }
            return matched
        }
        if matched { return true }
        if collectErrors {
            for position in range.range { _ = applyInPlace(children[position], instance, nil) }
            fail(instruction, "must match at least one of the \(range.count) schemas in anyOf")
        }
        return false
    }

    @inline(never)
    mutating func applyOneOf(_ instruction: Instruction, _ range: TableRange, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        let exhaustive = evaluated != nil || collectErrors || annotating
        let children = self.children
        var first = -1
        var second = -1
        var count = 0
        quietly { evaluator in
            for position in range.range where evaluator.applyInPlace(children[position], instance, evaluated) {
                count += 1
                if first < 0 { first = position } else if second < 0 { second = position }
                if !exhaustive, count > 1 { break }
            }
        }
        if count == 1 { return true }
        if collectErrors {
            if count == 0 {
                for position in range.range { _ = applyInPlace(children[position], instance, nil) }
                fail(instruction, "must match exactly one of the \(range.count) schemas in oneOf, but matches none")
            } else {
                let start = Int(range.start)
                fail(instruction, "must match exactly one of the \(range.count) schemas in oneOf, but matches \(count) (first at positions \(first - start) and \(second - start))")
            }
        }
        return false
    }

    @inline(never)
    mutating func applyNot(_ instruction: Instruction, _ child: Child, _ instance: JSONValue) -> Bool {
        let annotationMark = annotations.count
        if quietly({ $0.applyInPlace(child, instance, nil) }) {
            if annotations.count > annotationMark { annotations.removeSubrange(annotationMark...) }
            fail(instruction, "must not match the schema in not")
            return false
        }
        return true
    }

    @inline(never)
    mutating func applyConditional(_ table: Int, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        let rule = program.conditionals[table]
        let holds = quietly({ $0.applyInPlace(rule.condition, instance, evaluated) })
        guard let branch = holds ? rule.then : rule.otherwise else { return true }
        let mark = errors.count
        let valid = applyInPlace(branch, instance, evaluated)
        if !valid && collectErrors { explainConditionalErrors(from: mark, rule.conditionText, holds: holds) }
        return valid
    }

    /// Says, after each error that `then` or `else` recorded, which condition made it apply:
    /// "missing required property 'hateCrimeStrands' (required because 'hateCrime' is true)".
    mutating func explainConditionalErrors(from mark: Int, _ condition: String?, holds: Bool) {
        let because: String
        switch (condition, holds) {
        case (let text?, true): because = text
        case (let text?, false): because = "it is not the case that \(text)"
        case (nil, true): because = "the schema in 'if' matches"
        case (nil, false): because = "the schema in 'if' does not match"
        }
        for index in mark..<errors.count {
            let location = errors[index].keywordLocation
            let required = location.hasSuffix("/required") || location.hasSuffix("/dependentRequired")
            errors[index].message += " (\(required ? "required" : "applies") because \(because))"
        }
    }

    @inline(never)
    mutating func applyDynamicRef(_ child: Child, _ anchor: Int, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var target = child.node
        let name = program.anchors[anchor]
        for resource in dynamicScope {
            if let node = program.resources[Int(resource)].dynamicAnchors[name] {
                target = node
                break
            }
        }
        return applyInPlace(Child(node: target, segment: child.segment), instance, evaluated)
    }

    @inline(never)
    mutating func applyContains(_ instruction: Instruction, _ table: Int, _ elements: [JSONValue], _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        let rule = program.containsRules[table]
        var count = 0
        let exhaustive = evaluated != nil || rule.maximum != nil || (annotating && program.mayAnnotate[Int(rule.child.node)])
        for (position, element) in elements.enumerated() {
            if quietly({ $0.apply(rule.child, element, at: .index(position)) }) {
                count += 1
                evaluated?.pointee.markItem(position)
                if !exhaustive, count >= rule.minimum { break }
            }
        }
        if count < rule.minimum {
            fail(segment: rule.minimumKeyword, absolute: instruction.absolute,
                 "array must contain at least \(rule.minimum) item\(rule.minimum == 1 ? "" : "s") matching the contains schema, but has \(count)")
            return false
        }
        if let maximum = rule.maximum, count > maximum {
            fail(segment: rule.maximumKeyword, absolute: instruction.absolute,
                 "array must contain at most \(maximum) item\(maximum == 1 ? "" : "s") matching the contains schema, but has \(count)")
            return false
        }
        return true
    }

    @inline(never)
    mutating func applyPropertyNames(_ child: Child, _ object: JSONObject) -> Bool {
        var valid = true
        if reporting { keywordPath.append(child.segment) }
        let annotationMark = annotations.count
        for position in 0..<object.count where !evaluate(child.node, .string(object.key(at: position)), nil) {
            valid = false
            if !collectErrors { break }
        }
        // Annotations about property names have no instance location of their own: dropped.
        if annotations.count > annotationMark { annotations.removeSubrange(annotationMark...) }
        if reporting { keywordPath.removeLast() }
        return valid
    }

    @inline(never)
    mutating func applyDependentSchemas(_ table: Int, _ object: JSONObject, _ instance: JSONValue, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var valid = true
        for (trigger, child) in program.dependentSchemas[table] where object.contains(trigger) {
            if !applyInPlace(child, instance, evaluated) {
                valid = false
                if !collectErrors { break }
            }
        }
        return valid
    }

    @inline(never)
    mutating func applyUnevaluatedProperties(_ child: Child, _ object: JSONObject, _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var valid = true
        let isFalse = nodes[Int(child.node)].isFalse
        for position in 0..<object.count where evaluated?.pointee.isPropertyEvaluated(position) != true {
            let key = object.key(at: position)
            if isFalse {
                failAtFalseChild(child, .key(key), "property is not allowed here (no schema evaluates it, and unevaluatedProperties is false)")
                valid = false
            } else if !apply(child, object.value(at: position), at: .key(key)) {
                valid = false
            }
            if !valid, !collectErrors { break }
            evaluated?.pointee.markProperty(position)
        }
        return valid
    }

    @inline(never)
    mutating func applyUnevaluatedItems(_ child: Child, _ elements: [JSONValue], _ evaluated: UnsafeMutablePointer<EvaluatedSet>?) -> Bool {
        var valid = true
        let isFalse = nodes[Int(child.node)].isFalse
        for position in elements.indices where evaluated?.pointee.isItemEvaluated(position) != true {
            if isFalse {
                failAtFalseChild(child, .index(position), "array item is not allowed here (no schema evaluates it, and unevaluatedItems is false)")
                valid = false
            } else if !apply(child, elements[position], at: .index(position)) {
                valid = false
            }
            if !valid, !collectErrors { break }
            evaluated?.pointee.markItem(position)
        }
        return valid
    }
}
