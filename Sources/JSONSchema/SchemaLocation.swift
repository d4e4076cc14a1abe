/// Where a subschema sits: a registered document and the JSON Pointer tokens inside it.
struct SchemaLocation: Hashable, Sendable {
    var document: Int
    var pointer: [String]

    func appending(_ tokens: String...) -> SchemaLocation {
        SchemaLocation(document: document, pointer: pointer + tokens)
    }
}
