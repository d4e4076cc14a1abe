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
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        if let result = left.withContiguousStorageIfAvailable({ a in
            right.withContiguousStorageIfAvailable { b in a.elementsEqual(b) }
        }), let result {
            return result
        }
        return left.elementsEqual(right)
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
