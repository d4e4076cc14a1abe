import JSON

/// What a subject access request names: any of the partner's reference (optionally with the
/// partner), the crime reference, or the family name and date of birth (with the given name when
/// the referral had one). Values are personal data: they are never logged nor echoed.
package struct SubjectSearch: Sendable {
    package var reference: String?
    /// Only with `reference`: the partner that sent it.
    package var partner: String?
    package var crimeReference: String?
    package var givenName: String?
    package var familyName: String?
    package var dateOfBirth: String?

    /// The longest value accepted for any key.
    package static let maxValueLength = 200

    package init() {}

    /// The parameters as the API names them (the CLI takes them as `--` options).
    package static let parameters = ["reference", "partner", "crimeReference", "given", "family", "dateOfBirth"]
}

/// A subject that a search found.
package struct SubjectMatch: Sendable {
    package var subjectID: String
    /// Which kinds of key matched it.
    package var matchedBy: [SubjectKeyKind]
    package var createdAt: Timestamp
    package var restricted: Bool
    /// The subject's referrals: id, partner, when received.
    package var referrals: [(id: String, partner: String, receivedAt: Timestamp)]
}

extension Exchange {
    /// `refex subject find` and `GET /v1/subjects?…` (admin): the subjects whose referrals match any
    /// of the keys given, most keys matched first. Erased subjects have no index: they are not found.
    /// Every search is logged (`subject.searched`) with the kinds of key and the subjects found,
    /// never the values. Throws `FilterError` for a search that cannot be run.
    package func findSubjects(_ search: SubjectSearch, knownPartners: [String], by actor: Actor) async throws -> [SubjectMatch] {
        let index = BlindIndex(keyring: keyring)
        let keys = try Exchange.searchKeys(search, index: index, knownPartners: knownPartners)
        let partner = search.partner
        try await backfillSubjectIndex()
        return try await store.write { txn in
            var kindsBySubject: [String: Set<SubjectKeyKind>] = [:]
            for (kind, digest) in keys {
                for entry in try txn.subjectIndexEntries(kind: kind, digest: digest) {
                    if kind == .reference, let partner {
                        guard try txn.referral(id: entry.referralID)?.partnerID == partner else { continue }
                    }
                    kindsBySubject[entry.subjectID, default: []].insert(kind)
                }
            }
            var matches: [SubjectMatch] = []
            for (subjectID, kinds) in kindsBySubject {
                // An erased subject's index is deleted with it; a row left behind by a failed commit finds nothing.
                guard let subject = try txn.subject(id: subjectID), subject.erasedAt == nil else { continue }
                let referrals = try txn.referrals(subjectID: subjectID).map { ($0.id, $0.partnerID, $0.receivedAt) }
                matches.append(SubjectMatch(
                    subjectID: subjectID, matchedBy: kinds.sorted(), createdAt: subject.createdAt, restricted: subject.restricted,
                    referrals: referrals
                ))
            }
            matches.sort { ($0.matchedBy.count, $1.createdAt.milliseconds) > ($1.matchedBy.count, $0.createdAt.milliseconds) }
            var details: JSONObject = [
                "keys": .array(Set(keys.map(\.0)).sorted().map { .string($0.rawValue) }),
                "matches": .number(JSONNumber(matches.count)),
                "subjects": .array(matches.prefix(100).map { .string($0.subjectID) }),
            ]
            if partner != nil { details["partner"] = .bool(true) }
            try txn.appendLog(LogEntryDraft(event: .subjectSearched, actor: actor.id, details: details))
            return matches
        }
    }

    /// Indexes the referrals whose entries are not written yet (see `queueSubjectIndex`), and the
    /// referrals stored before the blind indexes existed (a store made by an older refex), in
    /// batches, once: afterwards it is two reads of empty tables. Returns how many
    /// referrals it indexed. Erased subjects (no key) are skipped: there is nothing to index.
    /// Cancelled (the daemon stopping), it ends between batches with `CancellationError`; each
    /// batch commits with its place, so the next call carries on from there.
    @discardableResult
    package func backfillSubjectIndex(batch: Int = 200) async throws -> Int {
        let keyring = self.keyring
        let limits = self.limits
        let index = BlindIndex(keyring: keyring)
        var total = 0
        // Referrals whose entries a crash (or a failed commit of the keys database) kept from
        // being written after their own commit (`StoreTransaction.queueSubjectIndex`).
        while true {
            try Task.checkCancellation()
            let (indexed, done) = try await store.write { txn -> (Int, Bool) in
                let waiting = try txn.referralsAwaitingIndex(limit: batch)
                var indexed = 0
                for id in waiting {
                    guard let referral = try txn.referral(id: id), let sealed = referral.sealedBody,
                          let wrapped = try txn.subjectKey(subjectID: referral.subjectID),
                          let key = try? keyring.unwrap(wrapped),
                          let plaintext = try? keyring.open(sealed, key: key, context: "referral|\(referral.id)"),
                          let document = try? JSONValue.parse(plaintext, limits: limits) else { continue }
                    try txn.insertSubjectIndex(index.entries(for: document, subjectID: referral.subjectID, referralID: referral.id))
                    indexed += 1
                }
                try txn.clearAwaitingIndex(referralIDs: waiting)
                return (indexed, waiting.count < batch)
            }
            total += indexed
            if done { break }
        }
        while true {
            try Task.checkCancellation()
            let (indexed, done) = try await store.write { txn -> (Int, Bool) in
                guard let cursor = try txn.subjectIndexBackfillCursor() else { return (0, true) }
                let page = try txn.sealedReferrals(after: cursor, limit: batch)
                var indexed = 0
                for referral in page {
                    // A body that cannot be opened must not stop every search after it: it is left unindexed.
                    guard let sealed = referral.sealedBody, let wrapped = try txn.subjectKey(subjectID: referral.subjectID),
                          let key = try? keyring.unwrap(wrapped),
                          let plaintext = try? keyring.open(sealed, key: key, context: "referral|\(referral.id)"),
                          let document = try? JSONValue.parse(plaintext, limits: limits) else { continue }
                    try txn.insertSubjectIndex(index.entries(for: document, subjectID: referral.subjectID, referralID: referral.id))
                    indexed += 1
                }
                try txn.setSubjectIndexBackfillCursor(page.count < batch ? nil : page.last?.id)
                return (indexed, page.count < batch)
            }
            total += indexed
            if done { return total }
        }
    }

    /// The digests to look up, or a `FilterError` naming what is wrong with the search.
    static func searchKeys(_ search: SubjectSearch, index: BlindIndex, knownPartners: [String]) throws -> [(SubjectKeyKind, [UInt8])] {
        let values: [(String, String?)] = [
            ("reference", search.reference), ("partner", search.partner), ("crimeReference", search.crimeReference),
            ("given", search.givenName), ("family", search.familyName), ("dateOfBirth", search.dateOfBirth),
        ]
        for (name, value) in values {
            guard let value else { continue }
            guard value.count <= SubjectSearch.maxValueLength else {
                throw FilterError(name, "\(name) is longer than \(SubjectSearch.maxValueLength) characters")
            }
        }
        var keys: [(SubjectKeyKind, [UInt8])] = []
        if let reference = search.reference {
            let normalised = BlindIndex.normalisedReference(reference)
            guard !normalised.isEmpty else { throw FilterError("reference", "reference is empty") }
            keys.append((.reference, index.digest(.reference, [normalised])))
        }
        if let partner = search.partner {
            guard search.reference != nil else {
                throw FilterError("partner", "partner narrows a reference search: give reference too")
            }
            guard knownPartners.contains(partner) else {
                throw FilterError("partner", "partner is not a configured partner", validValues: knownPartners.sorted())
            }
        }
        if let crime = search.crimeReference {
            let normalised = BlindIndex.normalisedReference(crime)
            guard !normalised.isEmpty else { throw FilterError("crimeReference", "crimeReference is empty") }
            keys.append((.crimeReference, index.digest(.crimeReference, [normalised])))
        }
        if search.givenName != nil || search.familyName != nil || search.dateOfBirth != nil {
            guard let family = search.familyName.map(BlindIndex.normalisedName), !family.isEmpty else {
                throw FilterError("family", "a name search needs the family name (letters or digits), with dateOfBirth and, if known, given")
            }
            guard let text = search.dateOfBirth else {
                throw FilterError("dateOfBirth", "a name search needs dateOfBirth (YYYY-MM-DD): names alone are not indexed")
            }
            guard let birth = BlindIndex.normalisedDate(text) else {
                throw FilterError("dateOfBirth", "dateOfBirth must be a calendar date, YYYY-MM-DD")
            }
            let given = search.givenName.map(BlindIndex.normalisedName) ?? ""
            keys.append((.nameAndDateOfBirth, index.digest(.nameAndDateOfBirth, [given, family, birth])))
        }
        guard !keys.isEmpty else {
            throw FilterError("reference", "give at least one key: reference, crimeReference, or family and dateOfBirth (with given)",
                              validValues: SubjectSearch.parameters)
        }
        return keys
    }
}
