/// One schema resource: a schema object with its own canonical URI (a document root or a
/// subschema with `$id`), with the anchors defined inside it.
struct SchemaResource: Sendable {
    /// The canonical absolute URI, without fragment.
    var uri: String
    var location: SchemaLocation
    /// Plain-name fragments: from `$anchor` and from `$dynamicAnchor`.
    var anchors: [String: SchemaLocation] = [:]
    /// Fragments from `$dynamicAnchor` only.
    var dynamicAnchors: [String: SchemaLocation] = [:]
    /// The `$schema` in effect for the resource.
    var metaSchema: String
    /// Whether the URI was made up by the registry (no `$id`, no retrieval URI).
    var isAnonymous: Bool
}
