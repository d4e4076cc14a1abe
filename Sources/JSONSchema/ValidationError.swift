import JSON

/// One reason an instance is invalid.
///
/// The message never quotes instance values (they carry personal data); it may name
/// properties and values that come from the schema.
package struct ValidationError: Sendable, Hashable, CustomStringConvertible {
    /// Where in the instance, e.g. `/subject/dateOfBirth`.
    package var instanceLocation: JSONPointer
    /// The path through the schema that was evaluated, through any `$ref`, e.g.
    /// `/properties/subject/$ref/properties/dateOfBirth/format`.
    package var keywordLocation: String
    /// The keyword's canonical URI, e.g. `urn:refex:schema:person:1#/properties/dateOfBirth/format`,
    /// or nil if its schema has no URI.
    package var absoluteKeywordLocation: String?
    /// What is wrong, for a partner's developer.
    package var message: String

    /// Creates an error.
    package init(instanceLocation: JSONPointer, keywordLocation: String, absoluteKeywordLocation: String?, message: String) {
        self.instanceLocation = instanceLocation
        self.keywordLocation = keywordLocation
        self.absoluteKeywordLocation = absoluteKeywordLocation
        self.message = message
    }

    /// `instance location: message (keyword location)`, with `/` standing for the root.
    package var description: String {
        let instance = instanceLocation.tokens.isEmpty ? "/" : instanceLocation.description
        return "\(instance): \(message) (\(keywordLocation.isEmpty ? "/" : keywordLocation))"
    }
}
