import JSON

/// Checks schema documents against the draft 2020-12 meta-schema when they are loaded, so
/// that a mistake anywhere in a schema (also in `$defs` nothing refers to yet) is an error
/// at load time, with its location.
enum MetaSchemaCheck {
    private static let metaSchema: Schema? = {
        var compiler = SchemaCompiler(state: SchemaRegistry.standardState, options: ValidationOptions(annotations: .none))
        guard let location = SchemaRegistry.standardState.resolve(URIReference(Keyword.metaSchema2020)) else { return nil }
        return try? Schema(program: compiler.compile(location))
    }()

    /// Throws if `document` declares draft 2020-12 (or nothing) and does not conform to it.
    /// Documents for other meta-schemas are left to the compiler.
    static func check(_ document: JSONValue, uri: String) throws(SchemaError) {
        if let declared = document["$schema"]?.stringValue, URIReference(declared).withoutFragment.description != Keyword.metaSchema2020 {
            return
        }
        guard let metaSchema else {
            preconditionFailure("the embedded meta-schema compiles")
        }
        var checker = Evaluator(program: metaSchema.program, reporting: false, annotating: false)
        if checker.run(document).isValid { return }
        if checker.depthExceeded {
            throw SchemaError(code: .tooDeep, location: uri, message: "subschemas are nested too deeply to check against the meta-schema")
        }
        var reporter = Evaluator(program: metaSchema.program, reporting: true, annotating: false)
        let errors = reporter.run(document).errors
        guard let first = errors.first else { return }
        let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
        throw SchemaError(code: .invalidAgainstMetaSchema, location: uri + "#" + first.instanceLocation.description,
                          message: "does not conform to the draft 2020-12 meta-schema: \(first.message)\(more)")
    }
}
