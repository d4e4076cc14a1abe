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
        minimise(document, fields: fields, categories: allowed, markings: PreparedMarkings(document, markings), wildcards: wildcards)
    }

    /// As above, with the document's markings arranged once for all its recipients.
    package static func minimise(
        _ document: JSONValue, fields: [String], categories allowed: Set<String>, markings: PreparedMarkings, wildcards: Bool = true
    ) -> MinimisedData {
        let patterns = fields.compactMap { try? JSONPointer(parsing: $0) }.map { ArraySlice($0.tokens) }
        var walk = Walk(allowed: allowed, wildcards: wildcards)
        let data = walk.project(document, marks: markings.root, patterns: patterns) ?? .object(JSONObject())
        return MinimisedData(data: data, pointers: walk.leaves, categories: walk.disclosedCategories.sorted())
    }

    /// One document's markings as a tree over pointer tokens, made once and walked beside the
    /// document for each recipient: no node's pointer is built or hashed on the way.
    package struct PreparedMarkings {
        fileprivate let root: Marks

        package init(_ document: JSONValue, _ markings: DocumentMarkings) {
            let root = Marks()
            for (location, category) in markings.categories { root.node(at: location).category = category }
            for location in markings.contacts where document.value(at: location)?["safeToUse"]?.boolValue != true {
                root.node(at: location).unsafeContact = true
            }
            root.gatherCategoriesBelow()
            self.root = root
        }
    }

    /// A location in the markings tree (keys compared by code points, as `JSONPointer` compares them).
    fileprivate final class Marks {
        var children: [ExactString: Marks] = [:]
        /// The special category marked here, if any.
        var category: String?
        /// A contact not marked safe to use: disclosed to no one.
        var unsafeContact = false
        /// The categories marked here or below.
        var categoriesBelow: Set<String> = []

        func node(at location: JSONPointer) -> Marks {
            var node = self
            for token in location.tokens {
                let key = ExactString(token)
                if let next = node.children[key] {
                    node = next
                } else {
                    let next = Marks()
                    node.children[key] = next
                    node = next
                }
            }
            return node
        }

        func gatherCategoriesBelow() {
            categoriesBelow = category.map { [$0] } ?? []
            for child in children.values {
                child.gatherCategoriesBelow()
                categoriesBelow.formUnion(child.categoriesBelow)
            }
        }

        func child(_ token: String) -> Marks? {
            children.isEmpty ? nil : children[ExactString(token)]
        }
    }

    /// One projection's state: where it is (escaped pointer bytes), what it has disclosed.
    private struct Walk {
        /// The special categories the recipient may receive.
        let allowed: Set<String>
        let wildcards: Bool
        var leaves: [String] = []
        var disclosedCategories: Set<String> = []
        /// The current location's pointer text, escaped.
        private var path: [UInt8] = []
        /// The allowed categories marked at the current location or above it.
        private var categoriesAbove: [String] = []

        init(allowed: Set<String>, wildcards: Bool) {
            self.allowed = allowed
            self.wildcards = wildcards
        }

        /// The parts of `value` that `patterns` select, minus excluded locations; `marks`: the
        /// markings at this location (nil: none here or below). An empty pattern selects the whole value.
        mutating func project(_ value: JSONValue, marks: Marks?, patterns: [ArraySlice<String>]) -> JSONValue? {
            // Not disclosed at all: an unsafe contact, or a special category the recipient may not have.
            if let marks, marks.unsafeContact || marks.category.map({ !allowed.contains($0) }) == true { return nil }
            let category = marks?.category
            if let category { categoriesAbove.append(category) }
            defer { if category != nil { categoriesAbove.removeLast() } }
            let whole = patterns.contains { $0.isEmpty }
            switch value {
            case .object(let object):
                var out = JSONObject.Selection(of: object)
                for position in 0..<object.count {
                    let (key, member) = object.member(at: position)
                    let selected = children(key, patterns: patterns, whole: whole)
                    guard !selected.isEmpty else { continue }
                    let mark = enter(key)
                    if let projected = project(member, marks: marks?.child(key), patterns: selected) {
                        out.take(keyAt: position, value: projected)
                    }
                    path.removeLast(path.count - mark)
                }
                if out.isEmpty {
                    guard whole && object.isEmpty else { return nil }
                    leaf(marks)
                }
                return .object(out.object)
            case .array(let items):
                var out: [JSONValue] = []
                for (index, item) in items.enumerated() {
                    let token = String(index)
                    let selected = children(token, patterns: patterns, whole: whole)
                    guard !selected.isEmpty else { continue }
                    let mark = enter(token)
                    if let projected = project(item, marks: marks?.child(token), patterns: selected) {
                        out.append(projected)
                    }
                    path.removeLast(path.count - mark)
                }
                if out.isEmpty {
                    guard whole && items.isEmpty else { return nil }
                    leaf(marks)
                }
                return .array(out)
            default:
                guard whole else { return nil }
                leaf(marks)
                return value
            }
        }

        private func children(_ token: String, patterns: [ArraySlice<String>], whole: Bool) -> [ArraySlice<String>] {
            if whole { return [[]] }
            return patterns.compactMap { pattern in
                guard let first = pattern.first, first == token || (wildcards && first == "*") else { return nil }
                return pattern.dropFirst()
            }
        }

        /// Appends `/token` (escaped) to the path; returns the length to cut back to.
        private mutating func enter(_ token: String) -> Int {
            let mark = path.count
            path.append(UInt8(ascii: "/"))
            for byte in token.utf8 {
                switch byte {
                case UInt8(ascii: "~"): path.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "0")])
                case UInt8(ascii: "/"): path.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "1")])
                default: path.append(byte)
                }
            }
            return mark
        }

        /// A leaf is disclosed here: a category marked at or above it, or within it, goes with it.
        private mutating func leaf(_ marks: Marks?) {
            leaves.append(String(decoding: path, as: UTF8.self))
            disclosedCategories.formUnion(categoriesAbove)
            if let below = marks?.categoriesBelow {
                for category in below where allowed.contains(category) { disclosedCategories.insert(category) }
            }
        }
    }
}
