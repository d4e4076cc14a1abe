/// The seam `refex store migrate` copies a store through, row by row and verbatim: log entries
/// with their hashes, checkpoints with their signatures, the log's anchor, sealed bodies, wrapped
/// keys, every state. Exchange never sees it: it is Store's own business, between an exporting
/// store (SQLite, stopped) and an importing one (any store, empty).

/// One value of a stored row, as both stores hold it.
package enum StoreCell: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// A table a store copy carries: which database it lives in, its columns in the order rows carry
/// them, and the column rows are read in order of (unique), so that a copy pages through it.
package struct StoreTable: Sendable, Hashable {
    package enum Database: String, Sendable, Hashable {
        /// The data (`store.path`, `store.postgres`).
        case data
        /// The subject keys and blind indexes (`store.keysPath`, `store.postgresKeys`).
        case keys
    }

    package var database: Database
    package var name: String
    package var columns: [String]
    package var order: String
    /// One row of state the empty store already holds (a cursor): replaced, not added to.
    package var replacesTargetRows = false

    /// Every table a copy carries, parents before the rows that name them. The store's identity
    /// (`store_identity`) is not among them: the target keeps its own, made for the same master key.
    /// A test checks this against the schema, so that a new column cannot be left behind.
    package static let all: [StoreTable] = [
        StoreTable(database: .keys, name: "subject_keys", columns: ["subject_id", "wrapped", "created_at"], order: "rowid"),
        StoreTable(database: .keys, name: "subject_index", columns: ["kind", "digest", "subject_id", "referral_id"], order: "rowid"),
        StoreTable(
            database: .keys, name: "subject_index_backfill", columns: ["id", "after_referral"], order: "rowid", replacesTargetRows: true
        ),
        StoreTable(database: .data, name: "subjects", columns: ["id", "created_at", "restricted", "erased_at", "withdrawal_receipt"], order: "rowid"),
        StoreTable(
            database: .data, name: "referrals",
            columns: ["id", "partner_id", "reference_key", "subject_id", "schema_id", "body_digest", "sealed_body", "received_at", "receipt"],
            order: "rowid"
        ),
        StoreTable(
            database: .data, name: "consents",
            columns: [
                "id", "subject_id", "referral_id", "partner_id", "purposes", "recipients", "method", "obtained_at", "expires_at",
                "withdrawn_at", "sealed_details", "recorded_at", "document_digest", "receipt", "withdrawal_receipt",
            ],
            order: "rowid"
        ),
        StoreTable(
            database: .data, name: "disclosures",
            columns: [
                "id", "referral_id", "subject_id", "recipient_id", "service", "state", "lawful_basis", "consent_id", "justification", "actor",
                "pointers", "categories", "reason", "created_at", "updated_at", "justification_digest",
            ],
            order: "rowid"
        ),
        StoreTable(database: .data, name: "free_texts", columns: ["digest", "subject_id", "sealed", "created_at"], order: "rowid"),
        StoreTable(
            database: .data, name: "outbox",
            columns: [
                "id", "kind", "disclosure_id", "recipient_id", "mode", "payload", "state", "enqueued_at", "next_attempt_at", "attempts",
                "last_error", "lease_holder", "lease_until",
            ],
            order: "rowid"
        ),
        StoreTable(database: .data, name: "acknowledgements", columns: ["item_id", "recipient_id", "acknowledged_at"], order: "rowid"),
        StoreTable(
            database: .data, name: "log_entries",
            columns: [
                "seq", "time", "event", "actor", "referral_id", "subject_id", "disclosure_id", "recipient_id", "lawful_basis", "entry", "hash",
            ],
            order: "rowid"
        ),
        StoreTable(database: .data, name: "log_anchor", columns: ["id", "seq", "hash"], order: "rowid"),
        StoreTable(database: .data, name: "checkpoints", columns: ["seq", "hash", "time", "signature", "key_id"], order: "rowid"),
    ]
}

/// A store whose rows can be read out for a copy (a stopped SQLite store).
package protocol StoreExporting: AnyObject {
    /// Up to `limit` rows of `table` after the row at `offset` (in `table.order`), cells in `table.columns` order.
    func exportRows(_ table: StoreTable, offset: Int, limit: Int) throws -> [[StoreCell]]
    /// Where the copy comes from, for messages (file names only).
    var exportDescription: String { get }
}

/// A store that takes a copy: empty, and filled in one transaction per database, keys first.
package protocol StoreImporting: AnyObject {
    /// Opens the import: a store that holds anything (a subject, a log entry, a key) is refused
    /// (`StoreError` naming the first table with rows).
    func beginImport() throws
    /// Adds rows of `table` (cells in `table.columns` order), inside the import's transactions.
    func importRows(_ table: StoreTable, _ rows: [[StoreCell]]) throws
    /// Commits the keys, then the data (as every commit does: a key before the data it opens).
    func commitImport() throws
    /// Rolls back what was not committed.
    func abortImport()
    /// Where the copy goes, for messages (redacted).
    var importDescription: String { get }
}

/// What a copy carried, table by table.
package struct StoreCopySummary: Sendable {
    package var rows: [(table: String, count: Int)] = []

    package func count(_ table: String) -> Int { rows.first { $0.table == table }?.count ?? 0 }
}

/// The copy itself: every table of `StoreTable.all`, in batches, from `source` into `target`.
package enum StoreCopy {
    package static let batchRows = 500

    /// Copies everything; on any failure the target's import is rolled back and the error
    /// rethrown (a target whose keys committed but whose data did not is named in it).
    package static func copy(from source: any StoreExporting, to target: any StoreImporting) throws -> StoreCopySummary {
        try target.beginImport()
        var summary = StoreCopySummary()
        do {
            for table in StoreTable.all {
                var offset = 0
                while true {
                    let rows = try source.exportRows(table, offset: offset, limit: batchRows)
                    if !rows.isEmpty { try target.importRows(table, rows) }
                    offset += rows.count
                    if rows.count < batchRows { break }
                }
                summary.rows.append((table.name, offset))
            }
            try target.commitImport()
        } catch {
            target.abortImport()
            throw error
        }
        return summary
    }
}
