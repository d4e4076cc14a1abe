import JSON
import Synchronization

/// The schemas refex knows, by URI: the draft 2020-12 meta-schemas, and every schema
/// registered by `$id` (with the `$id`s embedded in it) or by the URI it was loaded from.
///
/// References resolve only against the registry; nothing is ever fetched from the network.
/// Safe to use from several threads; compiled schemas do not change when more are registered.
package final class SchemaRegistry: Sendable {
    private let state: Mutex<RegistryState>

    private static let standard: RegistryState = {
        var state = RegistryState()
        for text in MetaSchemas.documents {
            do {
                _ = try state.register(try JSONValue.parse(text), retrievalURI: nil)
            } catch {
                preconditionFailure("the embedded meta-schemas are valid: \(error)")
            }
        }
        state.anonymousCount = 0
        return state
    }()

    /// A registry holding the draft 2020-12 meta-schemas.
    package init() {
        state = Mutex(Self.standard)
    }

    /// Registers a schema document by its `$id`, its embedded `$id`s and anchors, and by
    /// `retrievalURI` (the URI or `file:` URL it was loaded from) if given. Returns the
    /// document's canonical URI. Registering an identical document again is harmless.
    ///
    /// - Throws: `SchemaError` if the document is not a schema, an identifier is invalid,
    ///   or a URI is already taken by a different schema.
    @discardableResult
    package func register(schema: JSONValue, retrievalURI: String? = nil) throws(SchemaError) -> String {
        try state.withLock { state throws(SchemaError) -> String in
            var copy = state
            let resource = try copy.register(schema, retrievalURI: retrievalURI)
            state = copy
            return state.resources[resource].uri
        }
    }

    /// Whether a schema is registered under `uri` (without fragment).
    package func contains(uri: String) -> Bool {
        state.withLock { $0.resourceByURI[URIReference(uri).withoutFragment.description] != nil }
    }

    /// Compiles the registered schema at `uri` (which may have a fragment, e.g. `…#/$defs/address`).
    ///
    /// - Throws: `SchemaError` if nothing is registered there, or the schema is invalid.
    package func compile(uri: String, options: ValidationOptions = .init()) throws(SchemaError) -> Schema {
        let snapshot = self.snapshot
        let reference = URIReference(uri)
        guard reference.isAbsolute, let location = snapshot.resolve(reference) else {
            throw SchemaError(code: .unresolvedReference, location: uri, message: "no schema is registered at this URI")
        }
        var compiler = SchemaCompiler(state: snapshot, options: options)
        return Schema(program: try compiler.compile(location))
    }

    var snapshot: RegistryState {
        state.withLock { $0 }
    }
}
