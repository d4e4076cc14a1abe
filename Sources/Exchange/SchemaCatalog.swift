import Foundation
import JSON
import JSONSchema

/// The document schemas refex accepts, loaded from a folder and compiled once. A document names
/// its schema in its `schema` member; several versions can be live side by side.
package struct SchemaCatalog: Sendable {
    /// Annotation keywords refex acts on.
    package static let categoryKeyword = "x-refex-category"
    package static let contactKeyword = "x-refex-contact"

    private let schemas: [String: Schema]
    /// Each schema's JSON document, by `$id`: for checks that read a schema's shape (which
    /// pointers it can produce, which keywords it holds) rather than validate with it.
    private let documents: [String: JSONValue]

    /// Every `*.json` file in `folder` that has an `$id` (examples and other files are skipped
    /// when they have none). Throws `SchemaCatalogError` naming the file and the problem.
    package init(folder: String) throws {
        let registry = SchemaRegistry()
        var ids: [String] = []
        var documents: [String: JSONValue] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard !names.isEmpty else { throw SchemaCatalogError(message: "no schema files in \(folder)") }
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = "\(folder)/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SchemaCatalogError(message: "cannot read \(path)")
            }
            let document: JSONValue
            do {
                document = try JSONValue.parse(Array(data))
            } catch {
                throw SchemaCatalogError(message: "\(path): not valid JSON: \(error)")
            }
            guard document["$id"]?.stringValue != nil else { continue }
            do {
                let id = try registry.register(schema: document, retrievalURI: "file://\(path)")
                ids.append(id)
                documents[id] = document
            } catch {
                throw SchemaCatalogError(message: "\(path): \(error)")
            }
        }
        var compiled: [String: Schema] = [:]
        let options = ValidationOptions(
            assertFormats: true, annotations: .keywords([SchemaCatalog.categoryKeyword, SchemaCatalog.contactKeyword])
        )
        for id in ids {
            do {
                compiled[id] = try registry.compile(uri: id, options: options)
            } catch {
                throw SchemaCatalogError(message: "schema \(id): \(error)")
            }
        }
        schemas = compiled
        self.documents = documents
    }

    /// No schemas: for host commands that only read or manage what is stored.
    package static let empty = SchemaCatalog(schemas: [:], documents: [:])

    private init(schemas: [String: Schema], documents: [String: JSONValue]) {
        self.schemas = schemas
        self.documents = documents
    }

    package var ids: [String] { schemas.keys.sorted() }

    package func schema(_ id: String) -> Schema? { schemas[id] }

    /// The JSON document of schema `id`, as it was read.
    package func document(_ id: String) -> JSONValue? { documents[id] }

    /// Validates `document` against schema `id`.
    package func validate(_ document: JSONValue, against id: String) -> ValidationResult? {
        schemas[id]?.validate(document)
    }
}

package struct SchemaCatalogError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
