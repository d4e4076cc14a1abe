/// `required`: names to find in an object.
struct RequiredTable: @unchecked Sendable {
    // @unchecked: Unmanaged is a plain reference; the program owns the table.
    var names: Unmanaged<NameTable>
    var count: Int
}
