import JSON

/// `enum`: the allowed values, with fast lookup for strings.
struct EnumTable: @unchecked Sendable {
    // @unchecked: Unmanaged is a plain reference; the program owns the table.
    var values: [JSONValue]
    /// Set when every value is a string.
    var strings: Unmanaged<NameTable>?
    var set: Set<JSONValue>
}
