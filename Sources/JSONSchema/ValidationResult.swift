import JSON

/// The outcome of validating one instance.
package struct ValidationResult: Sendable {
    /// Whether the instance is valid.
    package var isValid: Bool
    /// Every reason the instance is invalid (empty if valid).
    package var errors: [ValidationError]
    /// The annotations collected, if valid (annotations from failed subschemas are
    /// dropped, and all of them if the instance is invalid).
    package var annotations: [Annotation]

    /// Creates a result.
    package init(isValid: Bool, errors: [ValidationError], annotations: [Annotation]) {
        self.isValid = isValid
        self.errors = errors
        self.annotations = annotations
    }

    /// The instance locations that carry the annotation `keyword`, with its value, in
    /// document order of collection; a location annotated twice appears twice.
    package func annotations(named keyword: String) -> [(JSONPointer, JSONValue)] {
        annotations.filter { $0.keyword == keyword }.map { ($0.instanceLocation, $0.value) }
    }
}
