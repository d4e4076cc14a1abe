/// A value bound to, or read from, PostgreSQL.
package enum PostgresValue: Sendable, Hashable {
    case null
    /// `bigint` (also read from `integer` and `smallint`).
    case integer(Int64)
    case boolean(Bool)
    /// `double precision`.
    case double(Double)
    /// `text` or `varchar`.
    case text(String)
    /// `bytea`.
    case bytes([UInt8])

    package var integer: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    package var text: String? { if case .text(let value) = self { return value } else { return nil } }
    package var bytes: [UInt8]? { if case .bytes(let value) = self { return value } else { return nil } }
    package var boolean: Bool? { if case .boolean(let value) = self { return value } else { return nil } }
    package var isNull: Bool { self == .null }
}

/// Swift values that bind as PostgreSQL parameters.
package protocol PostgresBindable {
    var postgresValue: PostgresValue { get }
}

extension Int: PostgresBindable { package var postgresValue: PostgresValue { .integer(Int64(self)) } }
extension Int64: PostgresBindable { package var postgresValue: PostgresValue { .integer(self) } }
extension Bool: PostgresBindable { package var postgresValue: PostgresValue { .boolean(self) } }
extension Double: PostgresBindable { package var postgresValue: PostgresValue { .double(self) } }
extension String: PostgresBindable { package var postgresValue: PostgresValue { .text(self) } }
extension Array: PostgresBindable where Element == UInt8 { package var postgresValue: PostgresValue { .bytes(self) } }
extension PostgresValue: PostgresBindable { package var postgresValue: PostgresValue { self } }
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    package var postgresValue: PostgresValue { self?.postgresValue ?? .null }
}

/// One result row.
package struct PostgresRow: Sendable, Hashable {
    package var values: [PostgresValue]

    package init(values: [PostgresValue]) { self.values = values }

    package subscript(_ index: Int) -> PostgresValue { index < values.count ? values[index] : .null }

    package func text(_ index: Int) -> String? { self[index].text }
    package func integer(_ index: Int) -> Int64? { self[index].integer }
    package func bytes(_ index: Int) -> [UInt8]? { self[index].bytes }
}
