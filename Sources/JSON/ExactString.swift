/// A string compared and hashed by its Unicode code points (its UTF-8 bytes).
///
/// Swift's `String ==` treats canonically equivalent strings as equal (`"é"` precomposed
/// equals `"e\u{301}"`); JSON does not, and neither may refex: object keys, `enum` and
/// `const` compare code point by code point, as every other JSON reader does.
package struct ExactString: Hashable, Sendable {
    /// The string.
    package let value: String

    /// Wraps a string.
    package init(_ value: String) {
        self.value = value
    }

    package static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        equal(lhs.value, rhs.value)
    }

    package func hash(into hasher: inout Hasher) {
        Self.hash(value, into: &hasher)
    }

    /// Whether two strings have the same code points.
    @inline(__always)
    package static func equal(_ lhs: String, _ rhs: String) -> Bool {
        // `==` is fast and never says "different" for equal bytes; only canonically
        // equivalent but different bytes need the second check.
        lhs.utf8.count == rhs.utf8.count && lhs == rhs && sameBytes(lhs, rhs)
    }

    private static func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
        let result = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
        }
        if let result, let result { return result }
        return lhs.utf8.elementsEqual(rhs.utf8)
    }

    /// A cheap 32-bit FNV-1a hash of the UTF-8 bytes: equal strings have equal fingerprints.
    /// Not for hash tables exposed to hostile keys (use `Hasher`), but to find a key among
    /// a fixed set of schema names before comparing it.
    @inline(__always)
    package static func fingerprint(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return hash
    }

    /// The fingerprint of a string's UTF-8 bytes.
    package static func fingerprint(of string: String) -> UInt32 {
        if let hash = string.utf8.withContiguousStorageIfAvailable({ fingerprint($0) }) { return hash }
        return Array(string.utf8).withUnsafeBufferPointer { fingerprint($0) }
    }

    /// Feeds a string's code points to `hasher`.
    package static func hash(_ string: String, into hasher: inout Hasher) {
        let utf8 = string.utf8
        hasher.combine(utf8.count)
        if utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in utf8 { hasher.combine(byte) }
        }
    }
}
