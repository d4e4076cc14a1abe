import JSON

/// A compiled JSON Schema (draft 2020-12), ready to validate instances.
///
/// Compile once, validate many times: a `Schema` is immutable, and `validate` may be
/// called from any number of threads at once.
package struct Schema: Sendable {
    let program: SchemaProgram

    init(program: SchemaProgram) {
        self.program = program
    }

    /// Compiles `schema`, resolving references against `registry` (which is not changed:
    /// `schema` is registered in a private copy).
    ///
    /// - Throws: `SchemaError` with the location of the first problem.
    package init(compiling schema: JSONValue, registry: SchemaRegistry = SchemaRegistry(), options: ValidationOptions = .init()) throws(SchemaError) {
        var state = registry.snapshot
        let resource = try state.register(schema, retrievalURI: nil)
        var compiler = SchemaCompiler(state: state, options: options)
        program = try compiler.compile(state.resources[resource].location)
    }

    /// The options the schema was compiled with.
    package var options: ValidationOptions { program.options }

    /// Validates `instance`: every error, or the annotations if it is valid.
    package func validate(_ instance: JSONValue) -> ValidationResult {
        var evaluator = Evaluator(program: program, collectErrors: true, collectAnnotations: program.collectsAnnotations)
        return evaluator.run(instance)
    }

    /// Whether `instance` is valid; faster than `validate` as it stops at the first error
    /// and collects nothing.
    package func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = Evaluator(program: program, collectErrors: false, collectAnnotations: false)
        return evaluator.run(instance).isValid
    }
}
