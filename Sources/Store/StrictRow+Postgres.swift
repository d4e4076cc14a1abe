import Postgres
import SQLite

extension StrictRow {
    /// A PostgreSQL row read with the same strictness as a SQLite one: BIGINT as an integer,
    /// BYTEA as bytes, TEXT as text, a boolean as 0 or 1.
    init(_ row: PostgresRow, table: String, columns: [String]) {
        self.init(Self.values(row), table: table, columns: columns)
    }

    /// As above, `columnList` the comma-separated SELECT list.
    init(_ row: PostgresRow, table: String, columnList: String) {
        self.init(Self.values(row), table: table, columnList: columnList)
    }

    private static func values(_ row: PostgresRow) -> SQLiteRow {
        let values = row.values.map { value -> SQLiteValue in
            switch value {
            case .null: .null
            case .integer(let number): .integer(number)
            case .boolean(let flag): .integer(flag ? 1 : 0)
            case .double(let number): .real(number)
            case .text(let text): .text(text)
            case .bytes(let bytes): .blob(bytes)
            }
        }
        return SQLiteRow(values: values)
    }
}
