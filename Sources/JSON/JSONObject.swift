/// A JSON object: members in insertion order, looked up by key in constant time.
///
/// Keys are unique, compared by code points (not by Unicode canonical equivalence, which
/// Swift's `String ==` uses). Equality and hashing ignore member order (`{"a":1,"b":2}` equals
/// `{"b":2,"a":1}`); serialization keeps it.
package struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One member, as iterated.
    package typealias Element = (key: String, value: JSONValue)

    // Small objects are searched linearly; from this size on a dictionary indexes the keys.
    private static let indexThreshold = 12

    private var memberKeys: [String]
    private var memberValues: [JSONValue]
    private var index: [ExactString: Int]?

    /// An empty object.
    package init() {
        memberKeys = []
        memberValues = []
        index = nil
    }

    /// An object with `members` in order. If a key occurs more than once, the last value
    /// wins, at the position of the first occurrence (as with repeated `self[key] = value`).
    package init(_ members: [(String, JSONValue)]) {
        self.init()
        memberKeys.reserveCapacity(members.count)
        memberValues.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    /// An object with the literal's members in order; a repeated key keeps the last value.
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The number of members.
    package var count: Int { memberKeys.count }

    /// Whether the object has no members.
    package var isEmpty: Bool { memberKeys.isEmpty }

    /// The keys in order.
    package var keys: [String] { memberKeys }

    /// The values in key order.
    package var values: [JSONValue] { memberValues }

    /// The position of `key` among the members, if present.
    package func position(of key: String) -> Int? {
        if let index { return index[ExactString(key)] }
        for (position, existing) in memberKeys.enumerated() where ExactString.equal(existing, key) {
            return position
        }
        return nil
    }

    /// Whether the object has a member named `key`.
    package func contains(_ key: String) -> Bool {
        position(of: key) != nil
    }

    /// The member at `position` (0 ..< count).
    package func member(at position: Int) -> Element {
        (memberKeys[position], memberValues[position])
    }

    /// The value for `key`. Setting appends a new key at the end, replaces an existing
    /// key's value in place, and setting nil removes the member (linear time).
    package subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return memberValues[position]
        }
        set {
            if let position = position(of: key) {
                if let newValue {
                    memberValues[position] = newValue
                } else {
                    memberKeys.remove(at: position)
                    memberValues.remove(at: position)
                    rebuildIndex()
                }
            } else if let newValue {
                appendNew(key, newValue)
            }
        }
    }

    /// Appends a member whose key the caller knows is not present yet.
    mutating func appendNew(_ key: String, _ value: JSONValue) {
        memberKeys.append(key)
        memberValues.append(value)
        if index != nil {
            index?[ExactString(key)] = memberKeys.count - 1
        } else if memberKeys.count >= Self.indexThreshold {
            rebuildIndex()
        }
    }

    mutating func reserveCapacity(_ capacity: Int) {
        memberKeys.reserveCapacity(capacity)
        memberValues.reserveCapacity(capacity)
    }

    private mutating func rebuildIndex() {
        guard memberKeys.count >= Self.indexThreshold else {
            index = nil
            return
        }
        var index: [ExactString: Int] = [:]
        index.reserveCapacity(memberKeys.count)
        for (position, key) in memberKeys.enumerated() { index[ExactString(key)] = position }
        self.index = index
    }

    /// Iterates the members in order.
    package struct Iterator: IteratorProtocol {
        private let object: JSONObject
        private var position = 0

        init(_ object: JSONObject) {
            self.object = object
        }

        /// The next member, or nil after the last.
        package mutating func next() -> Element? {
            guard position < object.memberKeys.count else { return nil }
            defer { position += 1 }
            return (object.memberKeys[position], object.memberValues[position])
        }
    }

    /// An iterator over the members in order.
    package func makeIterator() -> Iterator {
        Iterator(self)
    }

    /// Equal when both have the same keys with equal values, in any order.
    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (position, key) in lhs.memberKeys.enumerated() {
            guard let other = rhs[key], other == lhs.memberValues[position] else { return false }
        }
        return true
    }

    /// Hashes the members independently of their order.
    package func hash(into hasher: inout Hasher) {
        var combined = 0
        for position in memberKeys.indices {
            var memberHasher = Hasher()
            ExactString.hash(memberKeys[position], into: &memberHasher)
            memberHasher.combine(memberValues[position])
            combined &+= memberHasher.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}
