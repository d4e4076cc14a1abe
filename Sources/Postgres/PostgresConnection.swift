internal import CLibPQ
import Foundation

/// One connection to PostgreSQL through libpq: parameterised statements (prepared once per
/// connection and cached), values sent and read in binary, errors as `PostgresError` with the
/// server's SQLSTATE.
///
/// Used by one thread at a time (libpq's rule for a `PGconn`); a pool hands it from one thread
/// to the next. A connection that broke stays broken (`isConnected` false): open a new one.
package final class PostgresConnection: @unchecked Sendable {
    // @unchecked: `handle` and `prepared` are used by one thread at a time (see above).
    private let handle: OpaquePointer
    private var prepared: [String: String] = [:]
    /// Statements prepared at most; beyond, statements run unprepared (dynamic SQL stays bounded).
    private static let preparedLimit = 512

    /// Connects with `connectionString` (a libpq keyword/value string or a `postgresql://` URL).
    /// `defaults` (other than `dbname`) apply where the string says nothing; `overrides` replace what it says (e.g.
    /// another `dbname` on the same server). Throws `PostgresError` kind `connectionFailed`,
    /// whose message never holds the connection string.
    package init(connectionString: String, defaults: [(String, String)] = [], overrides: [(String, String)] = []) throws(PostgresError) {
        // Keywords are taken in order: the expanded string overrides the defaults before it, and
        // the overrides after it override the string. libpq expands only the first `dbname`: a
        // default `dbname` would be taken for the connection string, so there is none.
        let pairs = defaults.filter { $0.0 != "dbname" } + [("dbname", connectionString)] + overrides
        // libpq's parse errors quote the part they could not read, which may be the password:
        // parse first and say only that it failed; later messages have every secret blanked.
        let secrets = try Self.secrets(of: connectionString) + overrides.filter { Self.secretKeywords.contains($0.0) }.map(\.1)
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection: OpaquePointer? = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { keywordPointers in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, 1)
            }
        }
        guard let connection else { throw PostgresError(.connectionFailed, message: "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.redacted(Self.trimmed(PQerrorMessage(connection)), secrets)
            PQfinish(connection)
            throw PostgresError(.connectionFailed, message: "cannot connect: \(message)")
        }
        handle = connection
        // Notices (e.g. "table already exists, skipping") would go to stderr: they are not errors.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit {
        PQfinish(handle)
    }

    private static let secretKeywords: Set<String> = ["password", "sslpassword", "sslkey"]

    /// The values of the secret keywords `connectionString` sets. Throws, without libpq's
    /// message, when it cannot be parsed.
    private static func secrets(of connectionString: String) throws(PostgresError) -> [String] {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            throw PostgresError(
                .connectionFailed,
                message: "the connection string is malformed (libpq cannot parse it; check its keywords, quoting and %-escapes): it is not shown, as it may hold a password"
            )
        }
        defer { PQconninfoFree(options) }
        var secrets: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if secretKeywords.contains(String(cString: keyword)), let value = option.pointee.val {
                let text = String(cString: value)
                if !text.isEmpty { secrets.append(text) }
            }
            option += 1
        }
        return secrets
    }

    private static func redacted(_ message: String, _ secrets: [String]) -> String {
        secrets.reduce(message) { $0.replacingOccurrences(of: $1, with: "(hidden)") }
    }

    /// Whether the connection is still good (false once the server went away).
    package var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The database connected to.
    package var databaseName: String { PQdb(handle).map { String(cString: $0) } ?? "" }

    /// A setting the server reported at connection start (`server_version`, `in_hot_standby`,
    /// `default_transaction_read_only`, …), nil when it did not.
    package func parameterStatus(_ name: String) -> String? {
        PQparameterStatus(handle, name).map { String(cString: $0) }
    }

    /// The server's version number (e.g. 150018 for 15.18).
    package var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Whether a transaction is open (also one that failed and awaits ROLLBACK).
    package var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Whether the open transaction failed (only ROLLBACK, or ROLLBACK TO a savepoint, works now).
    package var isInFailedTransaction: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// Runs one or more statements without parameters (`BEGIN`, DDL, `VACUUM`); rows are discarded.
    package func execute(_ sql: String) throws(PostgresError) {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result)
    }

    /// Runs one statement with `parameters` ($1, $2, …) and returns its rows.
    @discardableResult
    package func query(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> [PostgresRow] {
        try run(sql, parameters.map(\.postgresValue)) { result throws(PostgresError) in try Self.rows(result) }
    }

    /// The first row of `sql`'s answer, if any.
    package func first(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> PostgresRow? {
        try query(sql, parameters).first
    }

    /// Runs one statement that changes rows and returns how many it changed.
    @discardableResult
    package func update(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> Int {
        try run(sql, parameters.map(\.postgresValue)) { result throws(PostgresError) in
            Int(String(cString: PQcmdTuples(result))) ?? 0
        }
    }

    /// A server setting as `SHOW` reports it (`fsync`, `synchronous_commit`, `transaction_read_only`).
    package func setting(_ name: String) throws(PostgresError) -> String {
        // SHOW takes no parameters; current_setting does.
        guard let value = try first("SELECT current_setting($1)", [name])?.text(0) else {
            throw PostgresError(.value, message: "the server did not report the setting \(name)")
        }
        return value
    }

    // MARK: Running statements

    private func run<T>(_ sql: String, _ values: [PostgresValue], _ read: (OpaquePointer) throws(PostgresError) -> T) throws(PostgresError) -> T {
        let encoded = values.map(Self.encode)
        let result: OpaquePointer? = try withParameters(encoded) { types, pointers, lengths, formats throws(PostgresError) in
            let count = Int32(encoded.count)
            if let name = try preparedName(sql, types: types, count: count) {
                return PQexecPrepared(handle, name, count, pointers, lengths, formats, 1)
            }
            return PQexecParams(handle, sql, count, types, pointers, lengths, formats, 1)
        }
        defer { PQclear(result) }
        try check(result)
        guard let result else { preconditionFailure("check passed a missing result") }
        return try read(result)
    }

    /// The name `sql` is prepared under on this connection (prepared now if new), or nil once
    /// the cache is full.
    private func preparedName(_ sql: String, types: UnsafePointer<Oid>?, count: Int32) throws(PostgresError) -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.preparedLimit else { return nil }
        let name = "refex_\(prepared.count)"
        let result = PQprepare(handle, name, sql, count, types)
        defer { PQclear(result) }
        try check(result)
        prepared[sql] = name
        return name
    }

    private func withParameters<T>(
        _ encoded: [(oid: Oid, bytes: [UInt8]?)],
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws(PostgresError) -> T
    ) throws(PostgresError) -> T {
        let types = encoded.map(\.oid)
        let lengths = encoded.map { Int32($0.bytes?.count ?? 0) }
        let formats = [Int32](repeating: 1, count: encoded.count)
        // One allocation per value, at least one byte so that an empty value is not NULL.
        let buffers: [UnsafeMutablePointer<CChar>?] = encoded.map { value in
            guard let bytes = value.bytes else { return nil }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: bytes.count) }
            }
            return buffer
        }
        defer { buffers.forEach { $0?.deallocate() } }
        let pointers = buffers.map { $0.map { UnsafePointer($0) } }
        do {
            return try types.withUnsafeBufferPointer { typePointer in
                try pointers.withUnsafeBufferPointer { valuePointer in
                    try lengths.withUnsafeBufferPointer { lengthPointer in
                        try formats.withUnsafeBufferPointer { formatPointer in
                            try body(typePointer.baseAddress, valuePointer.baseAddress, lengthPointer.baseAddress, formatPointer.baseAddress)
                        }
                    }
                }
            }
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(.value, message: "\(error)")
        }
    }

    /// Throws for a failed result (or none: the connection broke).
    private func check(_ result: OpaquePointer?) throws(PostgresError) {
        guard let result else {
            throw PostgresError(isConnected ? .server : .connectionLost, message: Self.trimmed(PQerrorMessage(handle)))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let sqlState = PQresultErrorField(result, refex_pq_diag_sqlstate()).map { String(cString: $0) }
            let primary = PQresultErrorField(result, refex_pq_diag_message_primary()).map { String(cString: $0) }
            let message = primary ?? Self.trimmed(PQresultErrorMessage(result))
            // A broken connection reports no SQLSTATE (or class 08) and leaves the status bad.
            let lost = !isConnected && (sqlState == nil || sqlState?.hasPrefix("08") == true)
            throw PostgresError(lost ? .connectionLost : .server, sqlState: sqlState, message: message.isEmpty ? "the server closed the connection" : message)
        }
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: "; ")
    }

    // MARK: Binary values

    private static func encode(_ value: PostgresValue) -> (oid: Oid, bytes: [UInt8]?) {
        switch value {
        case .null: return (0, nil)
        case .integer(let number): return (Oid(refex_pq_oid_int8), bigEndian(UInt64(bitPattern: number)))
        case .boolean(let flag): return (Oid(refex_pq_oid_bool), [flag ? 1 : 0])
        case .double(let number): return (Oid(refex_pq_oid_float8), bigEndian(number.bitPattern))
        case .text(let text): return (Oid(refex_pq_oid_text), Array(text.utf8))
        case .bytes(let bytes): return (Oid(refex_pq_oid_bytea), bytes)
        }
    }

    private static func bigEndian(_ number: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: number >> (56 - 8 * $0)) }
    }

    private static func rows(_ result: OpaquePointer) throws(PostgresError) -> [PostgresRow] {
        let (count, columns) = (PQntuples(result), PQnfields(result))
        let types = (0..<columns).map { PQftype(result, $0) }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            var values: [PostgresValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(.null)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                let bytes: [UInt8] = PQgetvalue(result, row, column).map { pointer in
                    pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
                } ?? []
                values.append(try decode(bytes, type: types[Int(column)], column: Int(column)))
            }
            rows.append(PostgresRow(values: values))
        }
        return rows
    }

    private static func decode(_ bytes: [UInt8], type: Oid, column: Int) throws(PostgresError) -> PostgresValue {
        func integer(_ width: Int) throws(PostgresError) -> Int64 {
            guard bytes.count == width else { throw PostgresError(.value, message: "column \(column): an integer of \(bytes.count) bytes where \(width) were expected") }
            let unsigned = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            // Sign-extend from the width read.
            let shift = UInt64(64 - 8 * width)
            return Int64(bitPattern: unsigned << shift) >> shift
        }
        switch UInt32(type) {
        case refex_pq_oid_int8: return .integer(try integer(8))
        case refex_pq_oid_int4: return .integer(try integer(4))
        case refex_pq_oid_int2: return .integer(try integer(2))
        case refex_pq_oid_bool:
            guard bytes.count == 1 else { throw PostgresError(.value, message: "column \(column): a boolean of \(bytes.count) bytes") }
            return .boolean(bytes[0] != 0)
        case refex_pq_oid_float8: return .double(Double(bitPattern: UInt64(bitPattern: try integer(8))))
        case refex_pq_oid_bytea: return .bytes(bytes)
        case refex_pq_oid_text, refex_pq_oid_varchar, 19 /* name */, 705 /* unknown */, 1042 /* bpchar */:
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw PostgresError(.value, message: "column \(column): text that is not UTF-8")
            }
            return .text(text)
        default:
            throw PostgresError(.value, message: "column \(column) has type OID \(type), which refex does not read (cast it in the SQL)")
        }
    }
}
