import Exchange

/// The log checked against the rest of the store, rule for rule as `LogCompleteness` checks it in
/// SQL (Sources/Store): every row has the entries its creation and changes of state appended, and
/// no entry names a row that never existed; rows made before the pruning cut are excepted. So
/// `Exchange.verifyLog` over the in-memory store also says when an operation left the log short.
extension InMemoryTransaction {
    private struct RequiredEntry: Sendable {
        var what: String
        var expected: String
        /// The rows (id, and the referral an entry must name, if any) made or changed after the cut.
        var rows: @Sendable (InMemoryTables, Int64) -> [(id: String, referral: String?)]
        /// Whether the entry is the one the row needs.
        var entry: @Sendable (Entry, (id: String, referral: String?)) -> Bool
    }

    /// What a rule reads of an entry: its indexed columns, and the consent id from its content.
    private struct Entry: Sendable {
        var seq: Int64
        var event: String
        var referralID: String?
        var subjectID: String?
        var disclosureID: String?
        var consentID: String?
    }

    private static func records<Record>(_ table: [String: InMemoryRow<Record>]) -> [Record] {
        table.values.sorted { $0.rowID < $1.rowID }.map(\.record)
    }

    private static let required: [RequiredEntry] = [
        RequiredEntry(
            what: "referral", expected: "referral.received",
            rows: { tables, cut in records(tables.referrals).filter { $0.receivedAt.milliseconds > cut }.map { ($0.id, $0.id) } },
            entry: { entry, row in entry.referralID == row.referral && entry.event == "referral.received" }
        ),
        RequiredEntry(
            what: "disclosure", expected: "decision (disclosure.authorised or disclosure.withheld)",
            rows: { tables, cut in records(tables.disclosures).filter { $0.createdAt.milliseconds > cut }.map { ($0.id, nil) } },
            entry: { entry, row in entry.disclosureID == row.id && ["disclosure.authorised", "disclosure.withheld"].contains(entry.event) }
        ),
        RequiredEntry(
            what: "delivered disclosure", expected: "disclosure.delivered",
            rows: { tables, cut in
                records(tables.disclosures).filter { $0.state == .delivered && $0.updatedAt.milliseconds > cut }.map { ($0.id, nil) }
            },
            entry: { entry, row in entry.disclosureID == row.id && entry.event == "disclosure.delivered" }
        ),
        RequiredEntry(
            what: "cancelled disclosure", expected: "disclosure.cancelled",
            rows: { tables, cut in
                records(tables.disclosures).filter { $0.state == .cancelled && $0.updatedAt.milliseconds > cut }.map { ($0.id, nil) }
            },
            entry: { entry, row in entry.disclosureID == row.id && entry.event == "disclosure.cancelled" }
        ),
        RequiredEntry(
            what: "consent", expected: "consent.recorded",
            rows: { tables, cut in records(tables.consents).filter { $0.recordedAt.milliseconds > cut }.map { ($0.id, $0.referralID) } },
            entry: { entry, row in entry.referralID == row.referral && entry.event == "consent.recorded" && entry.consentID == row.id }
        ),
        RequiredEntry(
            what: "withdrawn consent", expected: "consent.withdrawn",
            rows: { tables, cut in
                records(tables.consents).filter { ($0.withdrawnAt?.milliseconds).map { $0 > cut } ?? false }.map { ($0.id, $0.referralID) }
            },
            entry: { entry, row in entry.referralID == row.referral && entry.event == "consent.withdrawn" && entry.consentID == row.id }
        ),
        RequiredEntry(
            what: "queued disclosure in the outbox", expected: "disclosure.authorised or disclosure.retried",
            rows: { tables, cut in
                records(tables.outbox).filter { $0.kind == .disclosure && $0.enqueuedAt.milliseconds > cut }.map { ($0.disclosureID, nil) }
            },
            entry: { entry, row in entry.disclosureID == row.id && ["disclosure.authorised", "disclosure.retried"].contains(entry.event) }
        ),
        RequiredEntry(
            what: "notice in the outbox for disclosure", expected: "notice.queued",
            rows: { tables, cut in
                records(tables.outbox).filter { $0.kind != .disclosure && $0.enqueuedAt.milliseconds > cut }.map { ($0.disclosureID, nil) }
            },
            entry: { entry, row in entry.disclosureID == row.id && entry.event == "notice.queued" }
        ),
        RequiredEntry(
            what: "delivered disclosure whose recipient was told to erase it", expected: "notice.queued",
            rows: { tables, cut in
                records(tables.disclosures).filter { $0.state == .delivered && $0.reason != nil && $0.updatedAt.milliseconds > cut }
                    .map { ($0.id, nil) }
            },
            entry: { entry, row in entry.disclosureID == row.id && entry.event == "notice.queued" }
        ),
        RequiredEntry(
            what: "subject that left the service", expected: "subject.withdrew",
            rows: { tables, cut in
                records(tables.subjects).filter { $0.withdrawalReceipt != nil && ($0.erasedAt?.milliseconds).map { $0 > cut } ?? false }
                    .map { ($0.id, nil) }
            },
            entry: { entry, row in entry.subjectID == row.id && entry.event == "subject.withdrew" }
        ),
        RequiredEntry(
            what: "restricted subject", expected: "subject.restricted",
            rows: { tables, cut in records(tables.subjects).filter { $0.restricted && $0.createdAt.milliseconds > cut }.map { ($0.id, nil) } },
            entry: { entry, row in entry.subjectID == row.id && entry.event == "subject.restricted" }
        ),
        RequiredEntry(
            what: "erased subject", expected: "subject.erased",
            rows: { tables, cut in
                records(tables.subjects).filter { ($0.erasedAt?.milliseconds).map { $0 > cut } ?? false }.map { ($0.id, nil) }
            },
            entry: { entry, row in entry.subjectID == row.id && entry.event == "subject.erased" }
        ),
    ]

    private static let readingEvents: Set<String> = ["log.viewed", "subject.searched"]

    func logCompletenessProblems(prunedUpTo: Timestamp?, limit: Int) throws -> [String] {
        let cut = prunedUpTo?.milliseconds ?? Int64.min
        let entries = tables.log.map { stored in
            Entry(
                seq: stored.seq, event: stored.event, referralID: stored.indexed.referralID, subjectID: stored.indexed.subjectID,
                disclosureID: stored.indexed.disclosureID, consentID: LogEntry(canonical: stored.canonical, hash: stored.hash)?.draft.consentID
            )
        }
        var problems: [String] = []
        for rule in Self.required where problems.count < limit {
            for row in rule.rows(tables, cut) where problems.count < limit && !entries.contains(where: { rule.entry($0, row) }) {
                problems.append("the log is incomplete: \(rule.what) \(row.id) has no \(rule.expected) entry (entries were removed)")
            }
        }
        let named: [(column: String, value: (Entry) -> String?, exists: (String) -> Bool, applies: (String) -> Bool)] = [
            ("referral", \.referralID, { self.tables.referrals[$0] != nil }, { !Self.readingEvents.contains($0) }),
            ("subject", \.subjectID, { self.tables.subjects[$0] != nil }, { !Self.readingEvents.contains($0) }),
            ("disclosure", \.disclosureID, { self.tables.disclosures[$0] != nil }, { $0.hasPrefix("disclosure.") || $0.hasPrefix("notice.") }),
        ]
        for rule in named where problems.count < limit {
            for entry in entries where problems.count < limit && rule.applies(entry.event) {
                guard let id = rule.value(entry), !rule.exists(id) else { continue }
                problems.append("entry \(entry.seq) names \(rule.column) \(id), which is not in the store (a row was deleted, or the entry invented)")
            }
        }
        return problems
    }
}
