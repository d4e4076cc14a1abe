import JSONSchema

/// Why the exchange refused an operation. Each maps to one HTTP status; messages name rules and
/// fields, never values from the documents (they hold personal data).
package struct ExchangeError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// The body is not JSON (400).
        case malformedJSON
        /// The document does not satisfy its schema, or names an unknown schema (422).
        case invalid
        /// The partner may reach the thing, but not in the way it asked (403).
        case forbidden
        /// The thing does not exist, or belongs to another partner (404).
        case notFound
        /// The request conflicts with what is stored (409).
        case conflict
        /// The subject's data has been erased (410).
        case erased
    }

    package var kind: Kind
    package var message: String
    /// Schema errors, for `invalid`.
    package var validationErrors: [ValidationError]

    package init(_ kind: Kind, _ message: String, validationErrors: [ValidationError] = []) {
        self.kind = kind
        self.message = message
        self.validationErrors = validationErrors
    }

    package var description: String { "\(kind): \(message)" }
}
