import JSON

/// Reads typed values out of a parsed config, collecting every problem with its location
/// (`partners[2].roles`) instead of stopping at the first.
struct ConfigurationReader {
    private(set) var problems: [String] = []

    mutating func problem(_ path: String, _ message: String) {
        problems.append(path.isEmpty ? message : "\(path): \(message)")
    }

    /// The object at `path`, after checking that it has only `allowed` keys.
    mutating func object(_ value: JSONValue?, at path: String, allowed: Set<String>, required: Bool = true) -> JSONObject? {
        guard let value else {
            if required { problem(path, "missing") }
            return nil
        }
        guard case .object(let object) = value else {
            problem(path, "must be an object, not \(value.typeName)")
            return nil
        }
        for key in object.keys where !allowed.contains(key) {
            problem(join(path, key), "unknown key (known: \(allowed.sorted().joined(separator: ", ")))")
        }
        return object
    }

    mutating func string(_ object: JSONObject?, _ key: String, at path: String, required: Bool = true) -> String? {
        guard let object else { return nil }
        guard let value = object[key] else {
            if required { problem(join(path, key), "missing") }
            return nil
        }
        guard case .string(let text) = value else {
            problem(join(path, key), "must be a string, not \(value.typeName)")
            return nil
        }
        if required && text.isEmpty { problem(join(path, key), "must not be empty") }
        return text
    }

    mutating func integer(_ object: JSONObject?, _ key: String, at path: String, range: ClosedRange<Int64>) -> Int64? {
        guard let object, let value = object[key] else { return nil }
        guard let number = value.int64Value else {
            problem(join(path, key), "must be a whole number, not \(value.typeName)")
            return nil
        }
        guard range.contains(number) else {
            problem(join(path, key), "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return number
    }

    mutating func array(_ object: JSONObject?, _ key: String, at path: String, required: Bool = true) -> [JSONValue]? {
        guard let object else { return nil }
        guard let value = object[key] else {
            if required { problem(join(path, key), "missing") }
            return nil
        }
        guard case .array(let items) = value else {
            problem(join(path, key), "must be an array, not \(value.typeName)")
            return nil
        }
        return items
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
