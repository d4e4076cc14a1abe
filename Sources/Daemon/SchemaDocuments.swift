import Foundation
import Exchange
import JSON

/// The JSON documents of a schema catalog, for reading a schema's shape: follows `$ref`s within
/// a document (`#/$defs/text`) and across documents (`urn:refex:schema:referral:1#/$defs/service`).
struct SchemaDocuments {
    let catalog: SchemaCatalog

    /// A subschema and the `$id` of the document it is in (against which its `$ref`s resolve).
    struct Node {
        var value: JSONValue
        var base: String
    }

    func root(_ id: String) -> Node? { catalog.document(id).map { Node(value: $0, base: id) } }

    /// Where `reference` points from a node in document `base`; nil when it names no document or
    /// location this catalog holds (an anchor, a subschema's own `$id`).
    func resolve(_ reference: String, from base: String) -> Node? {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let documentID = parts[0].isEmpty ? base : String(parts[0])
        guard let document = catalog.document(documentID) else { return nil }
        let fragment = parts.count > 1 ? String(parts[1]) : ""
        guard !fragment.isEmpty else { return Node(value: document, base: documentID) }
        guard fragment.hasPrefix("/"), let decoded = fragment.removingPercentEncoding,
              let pointer = try? JSONPointer(parsing: decoded), let value = document.value(at: pointer) else { return nil }
        return Node(value: value, base: documentID)
    }

    /// The subschema at a validator's keyword location (`/properties/tls/$ref/minimum`), walked
    /// from the root of `id` through every `$ref` on the way.
    func node(atKeywordLocation location: String, in id: String) -> Node? {
        guard var node = root(id), let pointer = try? JSONPointer(parsing: location) else { return nil }
        for token in pointer.tokens {
            if token == "$ref" {
                guard let reference = node.value["$ref"]?.stringValue, let target = resolve(reference, from: node.base) else { return nil }
                node = target
                continue
            }
            switch node.value {
            case .object(let object):
                guard let child = object[token] else { return nil }
                node.value = child
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                node.value = items[index]
            default:
                return nil
            }
        }
        return node
    }
}
