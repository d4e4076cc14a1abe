import JSON

/// `if`, `then` and `else`.
struct ConditionalRule: Sendable {
    var condition: Child
    var then: Child?
    var otherwise: Child?
    /// The condition in words (`'hateCrime' is true`), for errors from `then` and `else`; nil
    /// when the `if` is not one of the simple shapes `ConditionText` describes.
    var conditionText: String?
}

/// Describes an `if` schema in words when it is made of the common shapes: `properties` whose
/// schemas are each one `const` or a short `enum`, and `required`. Everything it names comes
/// from the schema, never from an instance.
enum ConditionText {
    static func describe(_ schema: JSONValue) -> String? {
        guard case .object(let object) = schema else { return nil }
        var parts: [String] = []
        var described: Set<String> = []
        for (keyword, value) in object {
            switch keyword {
            case "properties":
                guard case .object(let properties) = value else { return nil }
                for (name, subschema) in properties {
                    guard case .object(let rule) = subschema, rule.count == 1 else { return nil }
                    if let constant = rule["const"] {
                        parts.append("'\(name)' is \(constant.serializedString())")
                    } else if let options = rule["enum"]?.arrayValue, !options.isEmpty, options.count <= 8 {
                        parts.append("'\(name)' is one of \(options.map { $0.serializedString() }.joined(separator: ", "))")
                    } else {
                        return nil
                    }
                    described.insert(name)
                }
            case "required":
                guard let names = value.arrayValue?.compactMap(\.stringValue) else { return nil }
                // A property already described is present when its rule is met (the usual if/required pairing).
                for name in names where !described.contains(name) { parts.append("'\(name)' is present") }
            case "$comment", "title", "description":
                continue
            default:
                return nil
            }
        }
        guard !parts.isEmpty else { return nil }
        let text = parts.joined(separator: " and ")
        return text.utf8.count <= 200 ? text : nil
    }
}
