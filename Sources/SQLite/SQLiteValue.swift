/// A value bound to, or read from, SQL.
package enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package var integer: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    package var text: String? { if case .text(let value) = self { return value } else { return nil } }
    package var blob: [UInt8]? {
        switch self {
        case .blob(let value): return value
        case .text(let value): return Array(value.utf8)
        default: return nil
        }
    }
    package var isNull: Bool { self == .null }
}

/// Swift values that bind as SQL values.
package protocol SQLiteBindable {
    var sqliteValue: SQLiteValue { get }
}

extension Int: SQLiteBindable { package var sqliteValue: SQLiteValue { .integer(Int64(self)) } }
extension Int64: SQLiteBindable { package var sqliteValue: SQLiteValue { .integer(self) } }
extension Bool: SQLiteBindable { package var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) } }
extension Double: SQLiteBindable { package var sqliteValue: SQLiteValue { .real(self) } }
extension String: SQLiteBindable { package var sqliteValue: SQLiteValue { .text(self) } }
extension Array: SQLiteBindable where Element == UInt8 { package var sqliteValue: SQLiteValue { .blob(self) } }
extension SQLiteValue: SQLiteBindable { package var sqliteValue: SQLiteValue { self } }
extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    package var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}

/// One result row.
package struct SQLiteRow: Sendable {
    package var values: [SQLiteValue]

    package init(values: [SQLiteValue]) { self.values = values }

    package subscript(_ index: Int) -> SQLiteValue { index < values.count ? values[index] : .null }

    package func text(_ index: Int) -> String? { self[index].text }
    package func integer(_ index: Int) -> Int64? { self[index].integer }
    package func blob(_ index: Int) -> [UInt8]? { self[index].blob }
}
