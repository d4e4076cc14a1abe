import Exchange
import SQLite

/// Finding what people name: ids by prefix, the values filters take, subjects by blind index.
extension SQLiteTransaction {
    private static func table(_ kind: StoredIDKind) -> String {
        switch kind {
        case .subject: "subjects"
        case .referral: "referrals"
        case .disclosure: "disclosures"
        }
    }

    func ids(_ kind: StoredIDKind, prefix: String, limit: Int) throws -> [String] {
        // Ids are lower-case hex and '-', all below '~': the range is the prefix's, on the primary key.
        try main.query(
            "SELECT id FROM \(Self.table(kind)) WHERE id >= ? AND id < ? ORDER BY id LIMIT ?", [prefix, prefix + "~", limit]
        ).map { try StrictRow($0, table: Self.table(kind), columns: ["id"]).text(0) }
    }

    func idNeighbours(_ kind: StoredIDKind, of id: String) throws -> (before: String?, after: String?) {
        let table = Self.table(kind)
        let before = try main.first("SELECT id FROM \(table) WHERE id < ? ORDER BY id DESC LIMIT 1", [id])
            .map { try StrictRow($0, table: table, columns: ["id"]).text(0) }
        let after = try main.first("SELECT id FROM \(table) WHERE id > ? ORDER BY id LIMIT 1", [id])
            .map { try StrictRow($0, table: table, columns: ["id"]).text(0) }
        return (before, after)
    }

    func distinctLogValues(_ column: LogValueColumn) throws -> [String] {
        let name = switch column {
        case .recipient: "recipient_id"
        case .actor: "actor"
        }
        return try main.query("SELECT DISTINCT \(name) FROM log_entries WHERE \(name) IS NOT NULL ORDER BY \(name)")
            .map { try StrictRow($0, table: "log_entries", columns: [name]).text(0) }
    }

    func insertSubjectIndex(_ entries: [SubjectIndexEntry]) throws {
        if !entries.isEmpty { try writingKeys() }
        for entry in entries {
            try keys.query(
                "INSERT OR IGNORE INTO subject_index (kind, digest, subject_id, referral_id) VALUES (?, ?, ?, ?)",
                [entry.kind.rawValue, entry.digest, entry.subjectID, entry.referralID]
            )
        }
    }

    func queueSubjectIndex(_ entries: [SubjectIndexEntry]) throws {
        // The referrals whose entries are not yet in the keys database: ids only, in this commit,
        // so that entries lost to a crash before they were written are made again from the
        // sealed bodies (`Exchange.backfillSubjectIndex`).
        for referralID in Set(entries.map(\.referralID)) {
            try main.query("INSERT OR IGNORE INTO subject_index_pending (referral_id) VALUES (?)", [referralID])
        }
        deferredIndex += entries
    }

    func referralsAwaitingIndex(limit: Int) throws -> [String] {
        try main.query("SELECT referral_id FROM subject_index_pending ORDER BY referral_id LIMIT ?", [limit])
            .map { try StrictRow($0, table: "subject_index_pending", columns: ["referral_id"]).text(0) }
    }

    func clearAwaitingIndex(referralIDs: [String]) throws {
        for id in referralIDs { try main.query("DELETE FROM subject_index_pending WHERE referral_id = ?", [id]) }
    }

    func replaceSubjectIndex(referralID: String, with entries: [SubjectIndexEntry]) throws {
        try writingKeys()
        try keys.query("DELETE FROM subject_index WHERE referral_id = ?", [referralID])
        try insertSubjectIndex(entries)
    }

    func subjectIndexEntries(kind: SubjectKeyKind, digest: [UInt8]) throws -> [SubjectIndexEntry] {
        try keys.query(
            "SELECT subject_id, referral_id FROM subject_index WHERE kind = ? AND digest = ? LIMIT 1000", [kind.rawValue, digest]
        ).map { found in
            let row = StrictRow(found, table: "subject_index", columns: ["subject_id", "referral_id"])
            return SubjectIndexEntry(kind: kind, digest: digest, subjectID: try row.text(0), referralID: try row.text(1))
        }
    }

    func subjectIndexBackfillCursor() throws -> String? {
        try keys.first("SELECT after_referral FROM subject_index_backfill WHERE id = 1")
            .map { try StrictRow($0, table: "subject_index_backfill", columns: ["after_referral"]).text(0) }
    }

    func setSubjectIndexBackfillCursor(_ cursor: String?) throws {
        try writingKeys()
        if let cursor {
            try keys.query("UPDATE subject_index_backfill SET after_referral = ? WHERE id = 1", [cursor])
        } else {
            try keys.query("DELETE FROM subject_index_backfill")
        }
    }

    func sealedReferrals(after id: String, limit: Int) throws -> [(id: String, subjectID: String, sealedBody: [UInt8]?)] {
        try main.query("SELECT id, subject_id, sealed_body FROM referrals WHERE id > ? ORDER BY id LIMIT ?", [id, limit]).map { found in
            let row = StrictRow(found, table: "referrals", columns: ["id", "subject_id", "sealed_body"])
            return (try row.text(0), try row.text(1), try row.optionalBlob(2))
        }
    }
}
