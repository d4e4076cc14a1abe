/// A JSON object: members in insertion order, looked up by key in constant time.
///
/// Keys are unique, compared by code points (not by Unicode canonical equivalence, which
/// Swift's `String ==` uses). Equality and hashing ignore member order (`{"a":1,"b":2}`
/// equals `{"b":2,"a":1}`); serialization keeps it. A value type, copied on write.
package struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One member, as iterated.
    package typealias Element = (key: String, value: JSONValue)

    // Small objects are searched linearly (comparing lengths first); from this size on a
    // dictionary indexes the keys.
    private static let indexThreshold = 32

    // @unchecked Sendable: a Storage is only mutated through JSONObject's mutating members,
    // and only when uniquely referenced (copy on write), so a shared one never changes.
    // @exclusivity(unchecked): for the same reason no two accesses can overlap, and the
    // dynamic checks would otherwise cost a thread-local lookup on every read.
    private final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var keys: [KeyEntry]
        @exclusivity(unchecked) var values: [JSONValue]
        @exclusivity(unchecked) var index: [ExactString: Int]?

        init(keys: [KeyEntry], values: [JSONValue]) {
            self.keys = keys
            self.values = values
            index = nil
            rebuildIndex()
        }

        init(copying other: Storage) {
            keys = other.keys
            values = other.values
            index = other.index
        }

        func rebuildIndex() {
            guard keys.count >= JSONObject.indexThreshold else {
                index = nil
                return
            }
            var index: [ExactString: Int] = [:]
            index.reserveCapacity(keys.count)
            for (position, key) in keys.enumerated() { index[ExactString(key.string)] = position }
            self.index = index
        }
    }

    /// A key with its `ExactString.fingerprint`, which the parser computes as it reads it.
    struct KeyEntry {
        var string: String
        var fingerprint: UInt32

        init(_ string: String, fingerprint: UInt32) {
            self.string = string
            self.fingerprint = fingerprint
        }

        init(_ string: String) {
            self.init(string, fingerprint: ExactString.fingerprint(of: string))
        }
    }

    private static let emptyStorage = Storage(keys: [], values: [])

    private var storage: Storage

    /// An empty object.
    package init() {
        storage = Self.emptyStorage
    }

    /// An object of members whose keys the caller guarantees are distinct.
    init(distinctKeys keys: [KeyEntry], values: [JSONValue]) {
        storage = keys.isEmpty ? Self.emptyStorage : Storage(keys: keys, values: values)
    }

    /// An object with `members` in order. If a key occurs more than once, the last value
    /// wins, at the position of the first occurrence (as with repeated `self[key] = value`).
    package init(_ members: [(String, JSONValue)]) {
        self.init()
        for (key, value) in members { self[key] = value }
    }

    /// An object with the literal's members in order; a repeated key keeps the last value.
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
        return storage
    }

    /// The number of members.
    package var count: Int { storage.keys.count }

    /// Whether the object has no members.
    package var isEmpty: Bool { storage.keys.isEmpty }

    /// The keys in order.
    package var keys: [String] { storage.keys.map(\.string) }

    /// The values in key order.
    package var values: [JSONValue] { storage.values }

    /// The position of `key` among the members, if present.
    package func position(of key: String) -> Int? {
        if let index = storage.index { return index[ExactString(key)] }
        let fingerprint = ExactString.fingerprint(of: key)
        for (position, existing) in storage.keys.enumerated() where existing.fingerprint == fingerprint && ExactString.equal(existing.string, key) {
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
        (storage.keys[position].string, storage.values[position])
    }

    /// The key at `position` (0 ..< count).
    package func key(at position: Int) -> String {
        storage.keys[position].string
    }

    /// The `ExactString.fingerprint` of the key at `position` (0 ..< count).
    package func keyFingerprint(at position: Int) -> UInt32 {
        storage.keys[position].fingerprint
    }

    /// The value at `position` (0 ..< count).
    package func value(at position: Int) -> JSONValue {
        storage.values[position]
    }

    /// The value for `key`. Setting appends a new key at the end, replaces an existing
    /// key's value in place, and setting nil removes the member (linear time).
    package subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return storage.values[position]
        }
        set {
            if let position = position(of: key) {
                let storage = uniqueStorage()
                if let newValue {
                    storage.values[position] = newValue
                } else {
                    storage.keys.remove(at: position)
                    storage.values.remove(at: position)
                    storage.rebuildIndex()
                }
            } else if let newValue {
                let storage = uniqueStorage()
                storage.keys.append(KeyEntry(key))
                storage.values.append(newValue)
                if storage.index != nil {
                    storage.index?[ExactString(key)] = storage.keys.count - 1
                } else if storage.keys.count >= Self.indexThreshold {
                    storage.rebuildIndex()
                }
            }
        }
    }

    /// Some of one object's members, in its order, gathered without a key lookup per member (a
    /// projection: the keys are distinct because they come from one object, each at most once).
    package struct Selection {
        private let source: JSONObject
        private var keys: [KeyEntry] = []
        private var values: [JSONValue] = []
        private var lastPosition = -1

        /// An empty selection from `source`.
        package init(of source: JSONObject) {
            self.source = source
        }

        /// Takes the key at `position` in the source, with `value`. Positions must increase
        /// (which keeps the keys distinct); an out-of-order one is a programming error.
        package mutating func take(keyAt position: Int, value: JSONValue) {
            precondition(position > lastPosition && position < source.count, "positions are taken in increasing order")
            lastPosition = position
            keys.append(source.storage.keys[position])
            values.append(value)
        }

        /// Whether nothing was taken.
        package var isEmpty: Bool { keys.isEmpty }

        /// The selected members as an object.
        package var object: JSONObject { JSONObject(distinctKeys: keys, values: values) }
    }

    /// Iterates the members in order.
    package struct Iterator: IteratorProtocol {
        private let keys: [KeyEntry]
        private let values: [JSONValue]
        private var position = 0

        init(keys: [KeyEntry], values: [JSONValue]) {
            self.keys = keys
            self.values = values
        }

        /// The next member, or nil after the last.
        package mutating func next() -> Element? {
            guard position < keys.count else { return nil }
            defer { position += 1 }
            return (keys[position].string, values[position])
        }
    }

    /// An iterator over the members in order.
    package func makeIterator() -> Iterator {
        Iterator(keys: storage.keys, values: storage.values)
    }

    /// Equal when both have the same keys with equal values, in any order.
    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        if lhs.storage === rhs.storage { return true }
        guard lhs.count == rhs.count else { return false }
        for (position, key) in lhs.storage.keys.enumerated() {
            guard let other = rhs[key.string], other == lhs.storage.values[position] else { return false }
        }
        return true
    }

    /// Hashes the members independently of their order.
    package func hash(into hasher: inout Hasher) {
        var combined = 0
        for position in storage.keys.indices {
            var memberHasher = Hasher()
            ExactString.hash(storage.keys[position].string, into: &memberHasher)
            memberHasher.combine(storage.values[position])
            combined &+= memberHasher.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}
