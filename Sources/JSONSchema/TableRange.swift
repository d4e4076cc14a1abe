/// A run of entries in one of the program's tables.
struct TableRange: Sendable {
    var start: Int32
    var count: Int32

    var range: Range<Int> { Int(start)..<Int(start + count) }
}
