import JSON

/// A value a keyword attached to an instance location during successful validation
/// (e.g. `"x-refex-category": "health"` on `/subject/health`).
package struct Annotation: Sendable, Hashable {
    /// Where in the instance.
    package var instanceLocation: JSONPointer
    /// The keyword, e.g. `x-refex-category` or `title`.
    package var keyword: String
    /// The path through the schema to the keyword (through any `$ref`).
    package var keywordLocation: String
    /// The keyword's value in the schema.
    package var value: JSONValue

    /// Creates an annotation.
    package init(instanceLocation: JSONPointer, keyword: String, keywordLocation: String, value: JSONValue) {
        self.instanceLocation = instanceLocation
        self.keyword = keyword
        self.keywordLocation = keywordLocation
        self.value = value
    }
}
