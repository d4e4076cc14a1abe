/// A schema that cannot be loaded or compiled: where it is wrong and what is wrong.
///
/// Raised at load time, never while validating.
package struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is.
    package enum Code: Sendable, Hashable {
        /// A keyword's value has the wrong type or an invalid value.
        case invalidKeyword
        /// A `$ref` or `$dynamicRef` that no registered schema answers.
        case unresolvedReference
        /// Two different schemas claim the same URI.
        case duplicateIdentifier
        /// A `$id`, `$anchor` or reference that is not a valid identifier.
        case invalidIdentifier
        /// `$schema` names a meta-schema the registry does not know, or one requiring a vocabulary refex does not implement.
        case unsupportedMetaSchema
        /// A cycle of references that never moves to a child of the instance (would recurse forever).
        case referenceCycle
        /// Subschemas nested more deeply than refex allows.
        case tooDeep
        /// The schema is not valid against its meta-schema.
        case invalidAgainstMetaSchema
        /// The schema is not a JSON object or boolean.
        case notASchema
        /// A schema document could not be read or parsed.
        case unreadable
    }

    /// What kind of problem it is.
    package var code: Code
    /// Where: the schema's URI with a JSON Pointer fragment to the offending keyword, e.g.
    /// `urn:refex:schema:referral:1#/properties/age/minimum`.
    package var location: String
    /// What is wrong, in words.
    package var message: String

    /// Creates an error.
    package init(code: Code, location: String, message: String) {
        self.code = code
        self.location = location
        self.message = message
    }

    package var description: String {
        location.isEmpty ? message : "\(location): \(message)"
    }
}
