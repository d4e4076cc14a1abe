import Crypto
import Foundation
import JSON

/// Free text kept with a decision (an override's justification, the reason for an erasure,
/// restriction or withdrawal): sealed under the subject's key, with the log holding only a
/// commitment to it, so that the chain still verifies once the text has gone with the key.
extension Exchange {
    /// What shows in place of free text whose subject was erased.
    package static let erasedFreeText = "(erased with the subject)"
    /// What shows when the text is held but this reader has not the master key (`--store` on a copy).
    package static let unreadableFreeText = "(sealed: readable only with the master key)"
    /// What shows when the stored text is not the one the log committed to (altered).
    package static let mismatchedFreeText = "(does not match the log's commitment)"

    /// Seals `text` under the subject key and stores it; returns its commitment:
    /// hex SHA-256 of a random 16-byte salt followed by the text's UTF-8. The salt is sealed with
    /// the text, so that a short or guessable text cannot be found from the digest.
    static func commitFreeText(
        _ text: String, subjectID: String, key: SymmetricKey, keyring: Keyring, txn: any StoreTransaction
    ) throws -> String {
        let salt = SecureRandom.bytes(16)
        let digest = SHA256.hash(salt + Array(text.utf8)).hexString
        let payload: JSONValue = ["salt": .string(salt.hexString), "text": .string(text)]
        let sealed = try keyring.seal(payload.serialized(), key: key, context: "free-text|\(digest)")
        try txn.insertFreeText(digest: digest, subjectID: subjectID, sealed: sealed)
        return digest
    }

    /// Opens free text for the people who may read it while the subject exists, checking it
    /// against its commitment; `erasedFreeText` once the subject (and so the key) is gone,
    /// `unreadableFreeText` without the master key, `mismatchedFreeText` if it was altered.
    /// `keys` caches unwrapped subject keys across one listing.
    static func revealFreeText(
        digest: String, keyring: Keyring, txn: any StoreTransaction, keys: inout [String: SymmetricKey?]
    ) -> String {
        guard let (subjectID, sealed) = try? txn.freeText(digest: digest),
              let wrapped = (try? txn.subjectKey(subjectID: subjectID)).flatMap({ $0 }) else { return erasedFreeText }
        let key: SymmetricKey?
        if let cached = keys[subjectID] {
            key = cached
        } else {
            key = try? keyring.unwrap(wrapped)
            keys[subjectID] = key
        }
        guard let key, let plaintext = try? keyring.open(sealed, key: key, context: "free-text|\(digest)") else { return unreadableFreeText }
        guard let payload = try? JSONValue.parse(plaintext), let text = payload["text"]?.stringValue,
              let saltHex = payload["salt"]?.stringValue, let salt = [UInt8](hex: saltHex),
              SHA256.hash(salt + Array(text.utf8)).hexString == digest else { return mismatchedFreeText }
        return text
    }

    /// `entries` with their committed free text opened where the subject still exists.
    static func revealed(_ entries: [LogEntry], keyring: Keyring, txn: any StoreTransaction) -> [LogEntry] {
        var keys: [String: SymmetricKey?] = [:]
        return entries.map { entry in
            guard let digest = entry.draft.justificationDigest else { return entry }
            var shown = entry
            shown.draft.justification = revealFreeText(digest: digest, keyring: keyring, txn: txn, keys: &keys)
            return shown
        }
    }

    /// A disclosure's justification as people may read it now: the text, the erased marker, or
    /// nil for a disclosure without one.
    static func justification(of disclosure: DisclosureRecord, keyring: Keyring, txn: any StoreTransaction, keys: inout [String: SymmetricKey?]) -> String? {
        if let digest = disclosure.justificationDigest {
            return revealFreeText(digest: digest, keyring: keyring, txn: txn, keys: &keys)
        }
        return disclosure.legacyJustification
    }

    /// The personal values of every referral of the subject, and who obtained each consent
    /// recorded for it, for `FreeTextPolicy`.
    static func personalValues(subjectID: String, key: SymmetricKey, keyring: Keyring, limits: JSONLimits, txn: any StoreTransaction) throws
        -> FreeTextPolicy.PersonalValues {
        var values = FreeTextPolicy.PersonalValues()
        for referral in try txn.referrals(subjectID: subjectID) {
            guard let sealed = referral.sealedBody else { continue }
            values.add(referral: try JSONValue.parse(try keyring.open(sealed, key: key, context: "referral|\(referral.id)"), limits: limits))
        }
        for consent in try txn.consents(subjectID: subjectID) {
            guard let sealed = consent.sealedDetails else { continue }
            let details = try JSONValue.parse(try keyring.open(sealed, key: key, context: "consent|\(consent.id)"), limits: limits)
            values.add(referral: ["consent": details])
        }
        return values
    }

    /// Checks `text` against the subject's referrals and commits it (sealed under the subject
    /// key); the digest for the log entry. nil without text, or when the subject's key is gone
    /// (the text would go with it: nothing is kept).
    static func commitReason(
        _ text: String?, field: String, subjectID: String, keyring: Keyring, limits: JSONLimits, txn: any StoreTransaction
    ) throws -> String? {
        guard let text, let wrapped = try txn.subjectKey(subjectID: subjectID) else { return nil }
        let key = try keyring.unwrap(wrapped)
        let personal = try personalValues(subjectID: subjectID, key: key, keyring: keyring, limits: limits, txn: txn)
        try FreeTextPolicy.check(text, field: field, personal: personal)
        return try commitFreeText(text, subjectID: subjectID, key: key, keyring: keyring, txn: txn)
    }

    /// `text` trimmed and checked for shape before a transaction opens; nil stays nil.
    static func shapedReason(_ text: String?, field: String) throws -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        try FreeTextPolicy.check(trimmed, field: field, personal: FreeTextPolicy.PersonalValues(), shapeOnly: true)
        return trimmed
    }

    /// Seals the justifications an older refex kept in plain text (`disclosures.justification`):
    /// each is committed to and sealed under its subject's key like new ones, and the plain text
    /// removed; a subject already erased keeps nothing. Entries already in the log cannot change.
    /// Returns how many were sealed or removed. Cancelled, it ends between batches with
    /// `CancellationError` (the next call carries on).
    package func sealPlainJustifications() async throws -> Int {
        let keyring = self.keyring
        let batch = 200
        var total = 0
        while true {
            try Task.checkCancellation()
            let done = try await store.write { txn -> Int in
                let found = try txn.disclosuresWithPlainJustification(limit: batch)
                for var disclosure in found {
                    if disclosure.justificationDigest == nil, let text = disclosure.legacyJustification,
                       try txn.subject(id: disclosure.subjectID)?.erasedAt == nil,
                       let wrapped = try txn.subjectKey(subjectID: disclosure.subjectID) {
                        disclosure.justificationDigest = try Exchange.commitFreeText(
                            text, subjectID: disclosure.subjectID, key: try keyring.unwrap(wrapped), keyring: keyring, txn: txn
                        )
                        try txn.updateDisclosure(disclosure)
                    }
                    try txn.clearPlainJustification(disclosureID: disclosure.id)
                }
                return found.count
            }
            total += done
            if done < batch { return total }
        }
    }
}
