import Crypto
import JSON

/// The reads the console needs beyond the API's: each logged as the API logs the same reading.
extension Exchange {
    /// The subject page: the subject's records, consents (details opened, each one opened logged
    /// `consent.viewed` as `GET /v1/consents/{id}?details=true` logs it), disclosures, and its
    /// newest `logLimit` log entries (logged `log.viewed` with the subject as the filter, as
    /// `GET /v1/disclosures?subject=` logs it). Referral bodies stay sealed (`revealReferral`).
    package func subjectTimeline(_ subjectID: String, logLimit: Int = 1000, by actor: Actor) async throws -> SubjectTimeline {
        let keyring = self.keyring
        let limits = self.limits
        let timeline = try await store.write { txn -> SubjectTimeline in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            let key = try txn.subjectKey(subjectID: subjectID).map { try keyring.unwrap($0) }
            let referrals = try txn.referrals(subjectID: subjectID).map {
                SubjectTimeline.Referral(id: $0.id, partnerID: $0.partnerID, receivedAt: $0.receivedAt, isReadable: key != nil && $0.sealedBody != nil)
            }
            // Read before this reading's own entries are appended.
            var keys: [String: SymmetricKey?] = [:]
            let disclosures = try txn.disclosures(subjectID: subjectID).map {
                DisclosureDetail($0, justification: Exchange.justification(of: $0, keyring: keyring, txn: txn, keys: &keys))
            }
            var filter = LogFilter()
            filter.subjectID = subjectID
            filter.newestFirst = true
            let page = max(1, min(logLimit, 10_000))
            let entries = Exchange.revealed(try txn.logEntries(filter, limit: page + 1), keyring: keyring, txn: txn)
            let now = txn.now
            let consents = try txn.consents(subjectID: subjectID).map { consent -> ConsentView in
                let state: ConsentView.State = consent.withdrawnAt != nil ? .withdrawn : subject.erasedAt != nil ? .erased
                    : (consent.isInForce(at: now) ? .inForce : .expired)
                var details = ConsentView.Details.erased
                if let key, let sealed = consent.sealedDetails,
                   let opened = try? JSONValue.parse(try keyring.open(sealed, key: key, context: "consent|\(consent.id)"), limits: limits) {
                    details = .shown(opened)
                    // Logged only when personal data was opened: an erased consent shows none.
                    try txn.appendLog(LogEntryDraft(
                        event: .consentViewed, actor: actor.id, referralID: consent.referralID, subjectID: consent.subjectID, consentID: consent.id,
                        details: ["sealedDetails": .bool(true)]
                    ))
                }
                return ConsentView(record: consent, state: state, details: details)
            }
            return SubjectTimeline(
                subject: subject, referrals: referrals, consents: consents, disclosures: disclosures,
                log: Array(entries.prefix(page)), logTruncated: entries.count > page
            )
        }
        var filter = LogFilter()
        filter.subjectID = subjectID
        filter.newestFirst = true
        try await recordViewing("list", filter: filter, by: actor)
        return timeline
    }

    /// One referral of `subjectID`, decrypted for an admin who asked: logged `referral.viewed`
    /// (with `decrypted: true`, beside what `GET /v1/referrals/{id}` records).
    package func revealReferral(_ referralID: String, subjectID: String, by actor: Actor) async throws -> RevealedReferral {
        let keyring = self.keyring
        let limits = self.limits
        return try await store.write { txn in
            guard let referral = try txn.referral(id: referralID), referral.subjectID == subjectID else {
                throw ExchangeError(.notFound, "There is no referral \(referralID) of that subject.")
            }
            var document: JSONValue?
            if let wrapped = try txn.subjectKey(subjectID: subjectID), let sealed = referral.sealedBody {
                let key = try keyring.unwrap(wrapped)
                document = try JSONValue.parse(try keyring.open(sealed, key: key, context: "referral|\(referral.id)"), limits: limits)
            }
            try txn.appendLog(LogEntryDraft(
                event: .referralViewed, actor: actor.id, referralID: referral.id, subjectID: subjectID, details: ["decrypted": .bool(document != nil)]
            ))
            return RevealedReferral(
                id: referral.id, subjectID: subjectID, partnerID: referral.partnerID, schemaID: referral.schemaID,
                receivedAt: referral.receivedAt, document: document
            )
        }
    }

    /// Counts of `events` per day (days begin at `utcOffsetMilliseconds` past midnight UTC), per
    /// recipient and lawful basis, from `since` up to `until`. Counts only: not a reading of the
    /// log's entries, so not logged.
    package func logEventCounts(
        since: Timestamp, until: Timestamp, events: [LogEvent], utcOffsetMilliseconds: Int64
    ) async throws -> [LogEventCount] {
        try await store.read { txn in
            try txn.logEventCounts(since: since, until: until, afterSeq: nil, events: events.map(\.rawValue), utcOffsetMilliseconds: utcOffsetMilliseconds)
        }
    }

    /// Counts of `events` on each of `days` (a day number and the instants it runs between, as
    /// the caller's time zone has them: a day may last 23 or 25 hours), by recipient and lawful
    /// basis, in one reading, of the entries after `afterSeq` (all when nil); and the log's head
    /// seq when they were read, to ask for only what came after next time. Each count carries
    /// its day's number. Not logged, as above.
    package func logEventCounts(
        days: [(day: Int64, since: Timestamp, until: Timestamp)], afterSeq: Int64? = nil, events: [LogEvent]
    ) async throws -> (counts: [LogEventCount], head: Int64?) {
        try await store.read { txn in
            let head = try txn.logBounds()?.last
            var out: [LogEventCount] = []
            for range in days {
                let found = try txn.logEventCounts(
                    since: range.since, until: range.until, afterSeq: afterSeq, events: events.map(\.rawValue), utcOffsetMilliseconds: 0
                )
                for var count in found {
                    count.day = range.day
                    out.append(count)
                }
            }
            return (out, head)
        }
    }

    /// The disclosures made without consent (an override's lawful basis) from `since` up to
    /// `until`, newest first, at most `limit`: a DPO's monthly review. Logged `log.viewed` with
    /// the event and basis as the filter.
    package func overrides(
        since: Timestamp, until: Timestamp, basis: LawfulBasis?, limit: Int, by actor: Actor
    ) async throws -> [LogEntry] {
        let keyring = self.keyring
        let bases = basis.map { [$0] } ?? LawfulBasis.allCases.filter { $0 != .consent }
        let entries = try await store.read { txn -> [LogEntry] in
            var found: [LogEntry] = []
            for basis in bases {
                var filter = LogFilter()
                filter.event = LogEvent.disclosureAuthorised.rawValue
                filter.lawfulBasis = basis.rawValue
                filter.since = since
                filter.until = until
                filter.newestFirst = true
                found += try txn.logEntries(filter, limit: limit)
            }
            found.sort { $0.seq > $1.seq }
            return Exchange.revealed(Array(found.prefix(limit)), keyring: keyring, txn: txn)
        }
        var recorded = LogFilter()
        recorded.event = LogEvent.disclosureAuthorised.rawValue
        recorded.lawfulBasis = basis?.rawValue
        recorded.since = since
        recorded.until = until
        recorded.newestFirst = true
        try await recordViewing("list", filter: recorded, extra: [("overrides", .bool(true))], by: actor)
        return entries
    }

    /// The newest verification the log records, looking back from the head through at most
    /// `scanLimit` `log.viewed` entries newer than `after` (the seq of one found before, so that
    /// a caller keeping it reads only what is new). Not a reading of personal data: not logged.
    package func recordedVerification(after: Int64?, scanLimit: Int = 5000) async throws -> (found: RecordedVerification?, head: Int64?) {
        try await store.read { txn in
            let head = try txn.logBounds()?.last
            var filter = LogFilter()
            filter.event = LogEvent.logViewed.rawValue
            filter.newestFirst = true
            filter.afterSeq = after
            var scanned = 0
            while scanned < scanLimit {
                let page = try txn.logEntries(filter, limit: min(500, scanLimit - scanned))
                for entry in page {
                    if let found = RecordedVerification(entry) { return (found, head) }
                }
                guard page.count == min(500, scanLimit - scanned), let last = page.last else { break }
                scanned += page.count
                filter.beforeSeq = last.seq
            }
            return (nil, head)
        }
    }
}

extension Exchange {
    /// The subject's record and where each of its disclosures stands (ids, states, reasons:
    /// no personal data), for the console's confirmation pages. Not logged.
    package func subjectStanding(_ subjectID: String) async throws -> (subject: SubjectRecord, disclosures: [DisclosureSummary]) {
        try await store.read { txn in
            guard let subject = try txn.subject(id: subjectID) else { throw ExchangeError(.notFound, "There is no subject \(subjectID).") }
            return (subject, try txn.disclosures(subjectID: subjectID).map(DisclosureSummary.init))
        }
    }

    /// The seq of the log's newest entry (nil when empty).
    package func logHead() async throws -> Int64? {
        try await store.read { txn in try txn.logBounds()?.last }
    }
}
