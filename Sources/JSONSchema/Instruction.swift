/// One compiled keyword (or a group of keywords evaluated together), with where it is.
struct Instruction: Sendable {
    var operation: Operation
    /// Segment index of the keyword's own location piece, e.g. `/type`.
    var keyword: Int32
    /// Index into `SchemaProgram.absoluteLocations`.
    var absolute: Int32
}
