import JSON

extension Evaluator {
    private static func typeName(_ instance: JSONValue) -> String {
        if case .number(let number) = instance, number.isInteger { return "integer" }
        return instance.typeName
    }

    private static func schemaValueText(_ value: JSONValue) -> String? {
        let text = value.serializedString()
        return text.utf8.count <= 60 ? text : nil
    }

    /// The number of Unicode scalars in `string` compared with `limit`, counting only when
    /// the UTF-8 length (between one and four bytes a scalar) cannot tell: -1, 0 or 1.
    @inline(__always)
    private static func compareLength(_ string: String, _ limit: Int) -> Int {
        let bytes = string.utf8.count
        if bytes < limit { return -1 }
        if bytes / 4 > limit { return 1 }
        var scalars = 0
        for byte in string.utf8 where byte & 0xC0 != 0x80 { scalars += 1 }
        return scalars < limit ? -1 : (scalars == limit ? 0 : 1)
    }

    /// The keywords that assert something of the instance itself (no subschemas).
    @inline(never)
    mutating func assertLeaf(_ instruction: Instruction, _ instance: JSONValue) -> Bool {
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

        case .constant(let index):
            let value = program.values[Int(index)]
            guard instance == value else {
                fail(instruction, Self.schemaValueText(value).map { "must be equal to \($0)" } ?? "must be equal to the constant in the schema")
                return false
            }
            return true

        case .enumeration(let table):
            let entry = program.enums.baseAddress.map { $0 + Int(table) }
            guard let entry else { return true }
            let found: Bool
            if let strings = entry.pointee.strings {
                if case .string(let string) = instance {
                    if entry.pointee.values.count <= 8 {
                        found = strings._withUnsafeGuaranteedRef { $0.linearIndex(of: string) } != nil
                    } else {
                        found = strings._withUnsafeGuaranteedRef { $0.index(of: string) } != nil
                    }
                } else {
                    found = false
                }
            } else if entry.pointee.values.count <= 8 {
                found = entry.pointee.values.contains(instance)
            } else {
                found = entry.pointee.set.contains(instance)
            }
            if !found {
                fail(instruction, {
                    let values = entry.pointee.values
                    let list = values.map { $0.serializedString() }.joined(separator: ", ")
                    let count = values.count == 1 ? "the 1 allowed value" : "one of the \(values.count) allowed values"
                    // Listed when the list fits on a line (the referral's eight services do).
                    return list.utf8.count <= 160 ? "must be \(count): \(list)" : "must be \(count)"
                }())
            }
            return found

        case .multipleOf(let index):
            guard case .number(let number) = instance else { return true }
            let divisor = program.numbers[Int(index)]
            guard number.isMultiple(of: divisor) else {
                fail(instruction, "must be a multiple of \(divisor)")
                return false
            }
            return true

        case .maximum(let index, let exclusive):
            guard case .number(let number) = instance else { return true }
            let limit = program.numbers[Int(index)]
            let comparison = JSONNumber.compare(number, limit)
            guard comparison < 0 || (comparison == 0 && !exclusive) else {
                fail(instruction, exclusive ? "must be less than \(limit)" : "must be at most \(limit)")
                return false
            }
            return true

        case .minimum(let index, let exclusive):
            guard case .number(let number) = instance else { return true }
            let limit = program.numbers[Int(index)]
            let comparison = JSONNumber.compare(number, limit)
            guard comparison > 0 || (comparison == 0 && !exclusive) else {
                fail(instruction, exclusive ? "must be greater than \(limit)" : "must be at least \(limit)")
                return false
            }
            return true

        case .maxLength(let limit):
            guard case .string(let string) = instance else { return true }
            guard Self.compareLength(string, limit) <= 0 else {
                fail(instruction, "string is longer than \(limit) character\(limit == 1 ? "" : "s")")
                return false
            }
            return true

        case .minLength(let limit):
            guard case .string(let string) = instance else { return true }
            guard Self.compareLength(string, limit) >= 0 else {
                fail(instruction, "string is shorter than \(limit) character\(limit == 1 ? "" : "s")")
                return false
            }
            return true

        case .pattern(let index):
            guard case .string(let string) = instance else { return true }
            let regex = program.regexes[Int(index)]
            guard regex._withUnsafeGuaranteedRef({ $0.matches(string) }) else {
                fail(instruction, "string does not match the pattern \(regex._withUnsafeGuaranteedRef { $0.source })")
                return false
            }
            return true

        case .format(let format):
            guard case .string(let string) = instance else { return true }
            guard format.isValid(string) else {
                fail(instruction, format.example.map { "string is not a valid \(format.noun), e.g. \($0)" } ?? "string is not a valid \(format.noun)")
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

        case .required(let table):
            guard case .object(let object) = instance else { return true }
            let entry = program.requireds[Int(table)]
            // Keys are unique, so counting the keys that are required names tells whether all are there.
            var found = 0
            entry.names._withUnsafeGuaranteedRef { names in
                for position in 0..<object.count where names.index(of: object.key(at: position), fingerprint: object.keyFingerprint(at: position)) != nil {
                    found += 1
                }
            }
            if found == entry.count { return true }
            for name in entry.names.takeUnretainedValue().names where !object.contains(name) {
                fail(instruction, "missing required property '\(name)'")
            }
            return false

        case .dependentRequired(let table):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for (trigger, names) in program.dependentRequireds[Int(table)] where object.contains(trigger) {
                for name in names where !object.contains(name) {
                    valid = false
                    guard collectErrors else { return false }
                    fail(instruction, "property '\(name)' is required when '\(trigger)' is present")
                }
            }
            return valid

        default:
            preconditionFailure("applicators are dispatched by execute")
        }
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
