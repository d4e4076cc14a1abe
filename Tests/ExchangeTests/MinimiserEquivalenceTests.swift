import JSON
import XCTest
@testable import Exchange

/// `Minimiser` walks the markings as a tree beside the document; the straightforward form it
/// replaced (kept here as the reference: a pointer built and hashed at every node) must give the
/// same data, leaves and categories for any document, fields and markings.
final class MinimiserEquivalenceTests: XCTestCase {
    func testMatchesTheReferenceProjectionOnRandomDocuments() throws {
        var generator = SystemRandomNumberGenerator()
        let keys = ["a", "b", "c~d", "e/f", "*", "0", "1", "é", "e\u{301}", ""]
        func randomValue(depth: Int) -> JSONValue {
            switch depth > 3 ? 0 : Int.random(in: 0...5, using: &generator) {
            case 0, 1: return .string("v\(Int.random(in: 0...9, using: &generator))")
            case 2: return .bool(Bool.random(using: &generator))
            case 3: return .array((0..<Int.random(in: 0...3, using: &generator)).map { _ in randomValue(depth: depth + 1) })
            default:
                var object = JSONObject()
                for _ in 0..<Int.random(in: 0...4, using: &generator) {
                    object[keys.randomElement(using: &generator) ?? "a"] = randomValue(depth: depth + 1)
                }
                if Bool.random(using: &generator) { object["safeToUse"] = .bool(Bool.random(using: &generator)) }
                return .object(object)
            }
        }
        /// Every location in the document, for markings and fields that hit something.
        func locations(_ value: JSONValue, at location: JSONPointer) -> [JSONPointer] {
            switch value {
            case .object(let object): return [location] + object.flatMap { locations($0.value, at: location.appending($0.key)) }
            case .array(let items): return [location] + items.enumerated().flatMap { locations($0.element, at: location.appending($0.offset)) }
            default: return [location]
            }
        }
        for round in 0..<2000 {
            let document = JSONValue.object(JSONObject([("top", randomValue(depth: 0)), ("other", randomValue(depth: 1))]))
            let all = locations(document, at: .root)
            var fields: [String] = []
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                var tokens = (all.randomElement(using: &generator) ?? .root).tokens
                if !tokens.isEmpty, Int.random(in: 0...3, using: &generator) == 0 {
                    tokens[Int.random(in: 0..<tokens.count, using: &generator)] = "*"
                }
                if Int.random(in: 0...5, using: &generator) == 0 { tokens.append("missing") }
                fields.append(JSONPointer(tokens: tokens).description)
            }
            if Int.random(in: 0...20, using: &generator) == 0 { fields.append("not a pointer") }
            var categories: [JSONPointer: String] = [:]
            var contacts: Set<JSONPointer> = []
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                var location = all.randomElement(using: &generator) ?? .root
                // Now and then a marking below a leaf (none that validation makes; the projection must still agree).
                if Int.random(in: 0...6, using: &generator) == 0 { location = location.appending("missing") }
                categories[location] = ["health", "criminal", "ethnicity"].randomElement(using: &generator)
            }
            for _ in 0..<Int.random(in: 0...2, using: &generator) { contacts.insert(all.randomElement(using: &generator) ?? .root) }
            let markings = DocumentMarkings(categories: categories, contacts: contacts)
            let allowed = Set(["health", "criminal"].filter { _ in Bool.random(using: &generator) })
            let wildcards = round % 5 != 0
            let got = Minimiser.minimise(document, fields: fields, categories: allowed, markings: markings, wildcards: wildcards)
            let expected = ReferenceMinimiser.minimise(document, fields: fields, categories: allowed, markings: markings, wildcards: wildcards)
            let context = "document \(document.serializedString()), fields \(fields), markings \(markings), allowed \(allowed)"
            XCTAssertEqual(got.data.serializedString(), expected.data.serializedString(), context)
            XCTAssertEqual(got.pointers, expected.pointers, context)
            XCTAssertEqual(got.categories, expected.categories, context)
            if got != expected { return }
            // The prepared markings serve every recipient of the document unchanged.
            let prepared = Minimiser.PreparedMarkings(document, markings)
            for others in [Set<String>(), ["health"], ["criminal", "ethnicity"], allowed] {
                let again = Minimiser.minimise(document, fields: fields, categories: others, markings: prepared, wildcards: wildcards)
                let reference = ReferenceMinimiser.minimise(document, fields: fields, categories: others, markings: markings, wildcards: wildcards)
                XCTAssertEqual(again.data.serializedString(), reference.data.serializedString(), context)
                XCTAssertEqual(again.pointers, reference.pointers, context)
                XCTAssertEqual(again.categories, reference.categories, context)
            }
        }
    }
}

/// The projection as it was before issue 17's profile (a `JSONPointer` built, and looked up in a
/// set, at every node): the reference the tree walk is checked against.
private enum ReferenceMinimiser {
    static func minimise(
        _ document: JSONValue, fields: [String], categories allowed: Set<String>, markings: DocumentMarkings, wildcards: Bool = true
    ) -> MinimisedData {
        let patterns = fields.compactMap { try? JSONPointer(parsing: $0) }.map(\.tokens)
        var excluded: Set<JSONPointer> = []
        for (location, category) in markings.categories where !allowed.contains(category) { excluded.insert(location) }
        for location in markings.contacts where document.value(at: location)?["safeToUse"]?.boolValue != true {
            excluded.insert(location)
        }
        var leafPointers: [JSONPointer] = []
        let data = project(document, at: .root, patterns: patterns, excluded: excluded, wildcards: wildcards, leaves: &leafPointers)
            ?? .object(JSONObject())
        let leaves = leafPointers.map(\.description)
        var disclosedCategories: Set<String> = []
        for (location, category) in markings.categories where allowed.contains(category) {
            if leafPointers.contains(where: { location.isPrefix(of: $0) || $0.isPrefix(of: location) }) {
                disclosedCategories.insert(category)
            }
        }
        return MinimisedData(data: data, pointers: leaves, categories: disclosedCategories.sorted())
    }

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
