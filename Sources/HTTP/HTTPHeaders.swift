/// Header fields in the order received; names are stored lower-cased (field names are
/// case-insensitive, RFC 9110 §5.1).
package struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    package private(set) var fields: [(name: String, value: String)] = []

    package init() {}

    package init(_ fields: [(String, String)]) {
        for (name, value) in fields { add(name, value) }
    }

    package init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    package mutating func add(_ name: String, _ value: String) {
        fields.append((lowercased(name), value))
    }

    /// Adds a field whose name the parser has already lower-cased.
    mutating func add(lowercasedName name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Replaces every field of that name with one.
    package mutating func set(_ name: String, _ value: String) {
        let lower = lowercased(name)
        if fields.contains(where: { $0.name == lower }) {
            fields.removeAll { $0.name == lower }
        }
        fields.append((lower, value))
    }

    package mutating func remove(_ name: String) {
        let lower = lowercased(name)
        fields.removeAll { $0.name == lower }
    }

    /// The first value of a field.
    package subscript(name: String) -> String? {
        let lower = lowercased(name)
        return fields.first { $0.name == lower }?.value
    }

    package func values(_ name: String) -> [String] {
        let lower = lowercased(name)
        var found: [String] = []
        for field in fields where field.name == lower { found.append(field.value) }
        return found
    }

    package func contains(_ name: String) -> Bool { self[name] != nil }

    /// How many fields have that name.
    package func count(of name: String) -> Int {
        let lower = lowercased(name)
        var count = 0
        for field in fields where field.name == lower { count += 1 }
        return count
    }

    /// The comma-separated tokens of every field of that name, lower-cased (e.g. `Connection`).
    package func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }.map {
            $0.trimmingOptionalWhitespace().lowercased()
        }.filter { !$0.isEmpty }
    }

    package var count: Int { fields.count }

    package func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

/// `name` lower-cased; names are almost always lower-case already, and then no copy is made.
private func lowercased(_ name: String) -> String {
    let needsLowering = name.utf8.withContiguousStorageIfAvailable { bytes in
        bytes.contains { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }
    } ?? true
    return needsLowering ? name.lowercased() : name
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
    func trimmingOptionalWhitespace() -> String {
        var view = Substring(self).utf8[...]
        while let first = view.first, first == 0x20 || first == 0x09 { view.removeFirst() }
        while let last = view.last, last == 0x20 || last == 0x09 { view.removeLast() }
        return String(Substring(view))
    }
}
