/// Why a string is not a JSON Pointer (RFC 6901).
package struct JSONPointerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the pointer.
    package enum Reason: Sendable, Hashable {
        /// A non-empty pointer that does not start with `/`.
        case missingLeadingSlash
        /// A `~` not followed by `0` or `1`.
        case invalidEscape
    }

    /// What is wrong with the pointer.
    package var reason: Reason

    /// Creates an error.
    package init(reason: Reason) {
        self.reason = reason
    }

    package var description: String {
        switch reason {
        case .missingLeadingSlash: "JSON Pointer must be empty or start with '/'"
        case .invalidEscape: "JSON Pointer has '~' not followed by '0' or '1'"
        }
    }
}
