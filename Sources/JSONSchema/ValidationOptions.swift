/// How a compiled schema validates.
package struct ValidationOptions: Sendable, Hashable {
    /// Which annotations validation reports.
    package enum AnnotationSelection: Sendable, Hashable {
        /// None: the fastest.
        case none
        /// Only these keywords (e.g. `["x-refex-category"]`).
        case keywords(Set<String>)
        /// Every annotation keyword: unknown keywords, meta-data (`title`, `description`,
        /// `default`, `deprecated`, `readOnly`, `writeOnly`, `examples`), `format` and the
        /// content keywords.
        case all
    }

    /// Whether `format` is an assertion (true) or only an annotation (false, the 2020-12
    /// default). refex turns it on. Unknown formats always pass.
    package var assertFormats: Bool
    /// Which annotations to collect.
    package var annotations: AnnotationSelection
    /// The deepest nesting of schema evaluation (each subschema applied counts one); deeper
    /// evaluation fails with an error instead of exhausting the stack. The default, 512,
    /// needs under 2 MiB of thread stack even in a debug build.
    package var maxEvaluationDepth: Int

    /// Creates options; the defaults follow the specification.
    package init(assertFormats: Bool = false, annotations: AnnotationSelection = .all, maxEvaluationDepth: Int = 512) {
        self.assertFormats = assertFormats
        self.annotations = annotations
        self.maxEvaluationDepth = maxEvaluationDepth
    }

    func collects(_ keyword: String) -> Bool {
        switch annotations {
        case .none: false
        case .all: true
        case .keywords(let keywords): keywords.contains(keyword)
        }
    }
}
