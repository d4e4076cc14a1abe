/// What went wrong talking to PostgreSQL: a typed kind, the server's SQLSTATE when it sent one,
/// and its message. Never holds the connection string or its password (libpq's messages name
/// hosts, sockets and users, never a password).
package struct PostgresError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// A connection could not be made (refused, timed out, authentication failed).
        case connectionFailed
        /// The connection broke while in use (the server went away, a network failure).
        case connectionLost
        /// The server answered the statement with an error (see `sqlState`).
        case server
        /// A value could not be read or sent (an unsupported type, a malformed binary value).
        case value
    }

    package var kind: Kind
    /// The five-character SQLSTATE (Appendix A of the PostgreSQL manual), when the server sent one.
    package var sqlState: String?
    package var message: String

    package init(_ kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    package var description: String {
        let state = sqlState.map { " (SQLSTATE \($0))" } ?? ""
        return "PostgreSQL: \(message)\(state)"
    }

    /// Whether the server is out of reach: no connection, a lost one, a server shutting down or
    /// starting (class 08, 57P01–57P03), or a failure libpq reports without any SQLSTATE (the
    /// server sent no error: the connection broke mid-answer, as under an immediate shutdown,
    /// before libpq marked it bad). Trying again later, on a new connection, may succeed.
    package var isUnavailable: Bool {
        if kind == .connectionFailed || kind == .connectionLost { return true }
        guard let sqlState else { return kind == .server }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(sqlState)
    }

    /// Whether running the same transaction again may succeed: a serialization failure or a
    /// deadlock the server broke by aborting this transaction.
    package var isTransientConflict: Bool { self ~= SQLState.serializationFailure || self ~= SQLState.deadlockDetected }
}

/// A SQLSTATE to match errors against: `catch let error as PostgresError where error ~= .uniqueViolation`.
package struct SQLState: Sendable, Hashable {
    package var code: String

    package init(_ code: String) { self.code = code }

    package static let uniqueViolation = SQLState("23505")
    package static let serializationFailure = SQLState("40001")
    package static let deadlockDetected = SQLState("40P01")
    package static let readOnlySQLTransaction = SQLState("25006")
    package static let inFailedSQLTransaction = SQLState("25P02")
    package static let undefinedTable = SQLState("42P01")
    package static let invalidCatalogName = SQLState("3D000")
    package static let duplicateDatabase = SQLState("42P04")
    package static let queryCanceled = SQLState("57014")
    package static let lockNotAvailable = SQLState("55P03")
}

extension PostgresError {
    package static func ~= (error: PostgresError, state: SQLState) -> Bool { error.sqlState == state.code }
    package static func ~= (state: SQLState, error: PostgresError) -> Bool { error.sqlState == state.code }
}
