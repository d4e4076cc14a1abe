import Exchange
import Foundation
import JSON
import SQLite

/// One row of a table, read strictly: each column must hold the type its table declares and,
/// for states and kinds, a value refex knows. Anything else throws `StoreError` (kind
/// `malformedRow`) naming the table, the column and what is wrong, with the value only when it
/// cannot be personal data (a state, a kind, a number), never a sealed blob, a name or free text.
/// Nothing is read as a default.
struct StrictRow {
    let row: SQLiteRow
    let table: String
    /// The SELECT list, named only when an error needs a column's name (splitting it for every
    /// row read was a quarter of the subject page's time).
    private let columnNames: ColumnNames

    private enum ColumnNames {
        case names([String])
        case selectList(String)
    }

    /// `columns` names the row's columns in order (as in the SELECT list).
    init(_ row: SQLiteRow, table: String, columns: [String]) {
        self.row = row
        self.table = table
        self.columnNames = .names(columns)
    }

    /// `columnList` is the comma-separated SELECT list the row was read with.
    init(_ row: SQLiteRow, table: String, columnList: String) {
        self.row = row
        self.table = table
        self.columnNames = .selectList(columnList)
    }

    /// The row's column names in order.
    var columns: [String] {
        switch columnNames {
        case .names(let names): names
        case .selectList(let list): Self.names(list)
        }
    }

    /// A comma-separated SELECT list as column names.
    static func names(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func text(_ index: Int) throws(StoreError) -> String {
        guard let text = try optionalText(index) else { throw malformed(index, "is NULL where a text is required") }
        return text
    }

    func optionalText(_ index: Int) throws(StoreError) -> String? {
        switch row[index] {
        case .null: return nil
        case .text(let text): return text
        case let other: throw malformed(index, "holds \(Self.typeName(other)) where a text is required")
        }
    }

    func integer(_ index: Int) throws(StoreError) -> Int64 {
        guard let number = try optionalInteger(index) else { throw malformed(index, "is NULL where an integer is required") }
        return number
    }

    func optionalInteger(_ index: Int) throws(StoreError) -> Int64? {
        switch row[index] {
        case .null: return nil
        case .integer(let number): return number
        case let other: throw malformed(index, "holds \(Self.typeName(other)) where an integer is required")
        }
    }

    /// A count or a number of attempts: an integer from 0.
    func count(_ index: Int) throws(StoreError) -> Int {
        let number = try integer(index)
        guard number >= 0, number <= Int64(Int.max) else { throw malformed(index, "holds \(number), which is not a count") }
        return Int(number)
    }

    /// A 0-or-1 flag.
    func flag(_ index: Int) throws(StoreError) -> Bool {
        switch try integer(index) {
        case 0: return false
        case 1: return true
        case let number: throw malformed(index, "holds \(number) where 0 or 1 is required")
        }
    }

    /// Bytes; a text is read as its UTF-8 (rows written by tools as text hold the same bytes).
    func blob(_ index: Int) throws(StoreError) -> [UInt8] {
        guard let bytes = try optionalBlob(index) else { throw malformed(index, "is NULL where bytes are required") }
        return bytes
    }

    func optionalBlob(_ index: Int) throws(StoreError) -> [UInt8]? {
        switch row[index] {
        case .null: return nil
        case .blob(let bytes): return bytes
        case .text(let text): return Array(text.utf8)
        case let other: throw malformed(index, "holds \(Self.typeName(other)) where bytes are required")
        }
    }

    /// Milliseconds since 1970 (UTC).
    func timestamp(_ index: Int) throws(StoreError) -> Timestamp {
        Timestamp(milliseconds: try integer(index))
    }

    func optionalTimestamp(_ index: Int) throws(StoreError) -> Timestamp? {
        try optionalInteger(index).map(Timestamp.init(milliseconds:))
    }

    /// A state or kind, by its raw value.
    func value<Value: RawRepresentable>(_ index: Int, as type: Value.Type) throws(StoreError) -> Value where Value.RawValue == String {
        guard let value = try optionalValue(index, as: type) else { throw malformed(index, "is NULL where a value is required") }
        return value
    }

    func optionalValue<Value: RawRepresentable>(_ index: Int, as type: Value.Type) throws(StoreError) -> Value? where Value.RawValue == String {
        guard let text = try optionalText(index) else { return nil }
        guard let value = Value(rawValue: text) else {
            // A state is a short token; anything else may be what someone wrote there, and is not repeated.
            let shown = Self.isToken(text) ? "'\(text)'" : "a value that is not one"
            throw malformed(index, "holds \(shown), not a known \(Self.valueName(Value.self))")
        }
        return value
    }

    /// A JSON array of strings (pointers, categories, purposes, recipient ids).
    func stringList(_ index: Int) throws(StoreError) -> [String] {
        guard let list = try optionalStringList(index) else { throw malformed(index, "is NULL where a list is required") }
        return list
    }

    func optionalStringList(_ index: Int) throws(StoreError) -> [String]? {
        guard let text = try optionalText(index) else { return nil }
        guard let value = try? JSONValue.parse(text), let items = value.arrayValue else {
            throw malformed(index, "does not hold a JSON array")
        }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard let string = item.stringValue else { throw malformed(index, "holds a JSON array with an item that is not a string") }
            strings.append(string)
        }
        return strings
    }

    /// The error for column `index`: "table T, column C <problem>".
    func malformed(_ index: Int, _ problem: String) -> StoreError {
        let names = columns
        let column = index < names.count ? names[index] : "#\(index)"
        return StoreError(
            "the store holds a row refex cannot read: table \(table), column \(column) \(problem); the store was changed outside refex, or by a newer refex: restore it from a backup or run that refex",
            kind: .malformedRow
        )
    }

    private static func typeName(_ value: SQLiteValue) -> String {
        switch value {
        case .null: "NULL"
        case .integer(let number): "the integer \(number)"
        case .real(let number): "the real \(number)"
        case .text: "a text"
        case .blob: "bytes"
        }
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 40 && text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
    }

    private static func valueName<Value>(_ type: Value.Type) -> String {
        let name = String(describing: type)
        // `DisclosureState` → "disclosure state"; `OutboxItem.Kind` → "kind".
        let last = name.split(separator: ".").last.map(String.init) ?? name
        var words = ""
        for character in last {
            if character.isUppercase, !words.isEmpty { words.append(" ") }
            words.append(Character(character.lowercased()))
        }
        return words
    }
}
