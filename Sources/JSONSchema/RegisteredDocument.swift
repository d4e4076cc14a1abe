import JSON

/// A registered schema document.
struct RegisteredDocument: Sendable {
    var value: JSONValue
    /// The resources whose roots are in this document, by pointer.
    var resourceRoots: [[String]: Int]
}
