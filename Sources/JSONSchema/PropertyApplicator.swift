/// `properties`, `patternProperties` and `additionalProperties` of one schema, evaluated
/// together. Plain data: the name table is kept alive by `SchemaProgram.nameTables`.
struct PropertyApplicator: @unchecked Sendable {
    // @unchecked: Unmanaged is a plain reference; the program owns the table.
    var named: Unmanaged<NameTable>
    /// The subschema of each name, in `SchemaProgram.children`.
    var namedChildren: TableRange
    /// Entries of `SchemaProgram.patterns`.
    var patterns: TableRange
    var additional: Child?
}
