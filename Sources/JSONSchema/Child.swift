/// A subschema applied by a keyword, and the keyword-location piece that leads to it.
struct Child: Sendable {
    var node: Int32
    var segment: Int32
}
