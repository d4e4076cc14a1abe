import JSON
import JSONSchema

/// What validation found in a document that decides what may leave refex.
package struct DocumentMarkings: Sendable, Hashable {
    /// Special-category data: where, and which category (`x-refex-category`).
    package var categories: [JSONPointer: String]
    /// Contact entries (`x-refex-contact`): disclosed only when their `safeToUse` is true.
    package var contacts: Set<JSONPointer>

    package init(categories: [JSONPointer: String] = [:], contacts: Set<JSONPointer> = []) {
        self.categories = categories
        self.contacts = contacts
    }

    /// The markings in a successful validation's annotations.
    package init(_ result: ValidationResult) {
        var categories: [JSONPointer: String] = [:]
        for (location, value) in result.annotations(named: SchemaCatalog.categoryKeyword) {
            if let category = value.stringValue { categories[location] = category }
        }
        var contacts: Set<JSONPointer> = []
        for (location, value) in result.annotations(named: SchemaCatalog.contactKeyword) where value.boolValue == true {
            contacts.insert(location)
        }
        self.init(categories: categories, contacts: contacts)
    }
}

/// The part of a document one recipient may receive.
package struct MinimisedData: Sendable, Hashable {
    /// Only the allowed fields, in the document's shape (arrays keep the chosen elements in order).
    package var data: JSONValue
    /// Every leaf disclosed, as a JSON Pointer into the original document.
    package var pointers: [String]
    /// The special categories among them.
    package var categories: [String]
}

/// Data minimisation (UK GDPR Art. 5(1)(c)): a recipient gets only the JSON Pointers its config
/// allows; special-category data only when it is configured for that category; contact details
/// only when marked safe to use.
package enum Minimiser {
    package static func minimise(
        _ document: JSONValue, fields: [String], categories allowed: Set<String>, markings: DocumentMarkings, wildcards: Bool = true
    ) -> MinimisedData {
        let patterns = fields.compactMap { try? JSONPointer(parsing: $0) }.map(\.tokens)
        var excluded: Set<JSONPointer> = []
        for (location, category) in markings.categories where !allowed.contains(category) { excluded.insert(location) }
        for location in markings.contacts where document.value(at: location)?["safeToUse"]?.boolValue != true {
            excluded.insert(location)
        }
        var leaves: [String] = []
        var leafPointers: [JSONPointer] = []
        let data = project(document, at: .root, patterns: patterns, excluded: excluded, wildcards: wildcards, leaves: &leafPointers)
            ?? .object(JSONObject())
        leaves = leafPointers.map(\.description)
        var disclosedCategories: Set<String> = []
        for (location, category) in markings.categories where allowed.contains(category) {
            if leafPointers.contains(where: { location.isPrefix(of: $0) || $0.isPrefix(of: location) }) {
                disclosedCategories.insert(category)
            }
        }
        return MinimisedData(data: data, pointers: leaves, categories: disclosedCategories.sorted())
    }

    /// The parts of `value` (at `location`) that `patterns` select, minus `excluded` locations.
    /// An empty pattern selects the whole value.
    private static func project(
        _ value: JSONValue, at location: JSONPointer, patterns: [[String]], excluded: Set<JSONPointer>, wildcards: Bool,
        leaves: inout [JSONPointer]
    ) -> JSONValue? {
        if excluded.contains(location) { return nil }
        let whole = patterns.contains { $0.isEmpty }
        func children(_ token: String) -> [[String]] {
            if whole { return [[]] }
            return patterns.compactMap { pattern in
                guard let first = pattern.first, first == token || (wildcards && first == "*") else { return nil }
                return Array(pattern.dropFirst())
            }
        }
        switch value {
        case .object(let object):
            var out = JSONObject()
            for (key, member) in object {
                let selected = children(key)
                guard !selected.isEmpty else { continue }
                if let projected = project(member, at: location.appending(key), patterns: selected, excluded: excluded, wildcards: wildcards, leaves: &leaves) {
                    out[key] = projected
                }
            }
            if out.isEmpty {
                guard whole && object.isEmpty else { return nil }
                leaves.append(location)
            }
            return .object(out)
        case .array(let items):
            var out: [JSONValue] = []
            for (index, item) in items.enumerated() {
                let selected = children(String(index))
                guard !selected.isEmpty else { continue }
                if let projected = project(item, at: location.appending(index), patterns: selected, excluded: excluded, wildcards: wildcards, leaves: &leaves) {
                    out.append(projected)
                }
            }
            if out.isEmpty {
                guard whole && items.isEmpty else { return nil }
                leaves.append(location)
            }
            return .array(out)
        default:
            guard whole else { return nil }
            leaves.append(location)
            return value
        }
    }
}
