import Crypto
import Exchange
import Foundation
import SQLite

/// Which store two database files belong to, and which master key: recorded in both files when
/// the store is created, checked every time it is opened.
///
/// - `store_id`: 128 random bits, the same in the data and the keys database. A file from
///   another store, or a half recreated empty, has another id (or none).
/// - `key_check`: a key check value of the master key, HMAC-SHA-256 under a key derived from it
///   (label `refex key check v1`) of the store id. It identifies the key without revealing it
///   (one-way, keyed), and differs between stores that share a key.
package struct StoreIdentity: Sendable, Hashable {
    package var storeID: String
    package var keyCheck: String

    /// The key check value of `masterKey` for the store `storeID`.
    package static func keyCheck(masterKey: SymmetricKey, storeID: String) -> String {
        let derived = HMACSHA256.deriveKey(from: masterKey.bytes, label: "refex key check v1")
        return HMACSHA256.authenticationCode(for: Array("store|\(storeID)".utf8), key: derived).hexString
    }

    /// The identity recorded in `connection`'s database; nil when it has none (a store made
    /// before identities, or a database that is not a refex store).
    static func read(_ connection: SQLiteConnection) throws -> StoreIdentity? {
        guard try connection.first("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_identity'") != nil,
              let found = try connection.first("SELECT store_id, key_check FROM store_identity WHERE id = 1") else { return nil }
        let row = StrictRow(found, table: "store_identity", columns: ["store_id", "key_check"])
        return StoreIdentity(storeID: try row.text(0), keyCheck: try row.text(1))
    }

    func record(in connection: SQLiteConnection, now: Int64) throws {
        try connection.query(
            "INSERT OR REPLACE INTO store_identity (id, store_id, key_check, created_at) VALUES (1, ?, ?, ?)",
            [storeID, keyCheck, now]
        )
    }

    /// What the two files' identities say, checked against each other and against `masterKey`
    /// (when given). Throws `StoreError` (kind `identity`) naming the file and what to do.
    static func check(
        main: StoreIdentity?, keys: StoreIdentity?, path: String, keysPath: String, masterKey: SymmetricKey?
    ) throws(StoreError) {
        let restore = "restore both files from the same backup (README: Restore), or give the store.path and store.keysPath of one store"
        switch (main, keys) {
        case (nil, nil):
            return
        case (.some, nil):
            throw StoreError(
                "the subject keys \(keysPath) do not belong to the store \(path) (the keys file has no store identity: it was made apart from it): \(restore)",
                kind: .identity
            )
        case (nil, .some):
            throw StoreError(
                "the data \(path) does not belong to the store whose subject keys are \(keysPath) (the data file has no store identity: it was made apart from them): \(restore)",
                kind: .identity
            )
        case (.some(let main), .some(let keys)):
            guard main.storeID == keys.storeID else {
                throw StoreError(
                    "\(path) (store \(main.storeID)) and \(keysPath) (store \(keys.storeID)) are halves of two different stores: \(restore)",
                    kind: .identity
                )
            }
            guard main.keyCheck == keys.keyCheck else {
                throw StoreError("\(path) and \(keysPath) record different master keys: \(restore)", kind: .identity)
            }
            if let masterKey, !main.keyCheck.isEmpty,
               !constantTimeEquals(Array(keyCheck(masterKey: masterKey, storeID: main.storeID).utf8), Array(main.keyCheck.utf8)) {
                throw StoreError(
                    "the master key (masterKey, or the credential master-key) is not the key the store \(path) was created with: start refex with that store's own master key (a backup needs the key it was made under); nothing was changed",
                    kind: .identity
                )
            }
        }
    }

    /// The two halves are of one moment: the newest subject not erased has its key, and the
    /// subject erased last has no key. Two halves of one store restored from different backups
    /// pass `check` (same identity) but fail here: subjects created since the older keys were
    /// copied would be silently unreadable, or an erased subject's key would be back. A key with
    /// no subject is allowed: `refex backup` copies the keys a moment after the data, so a
    /// backup may hold keys of subjects created in between. Bounded: rowid order finds the newest
    /// subject without a scan; the one scan (erased subjects) reads one table. Throws
    /// `StoreError` (kind `identity`).
    static func checkHalvesAgree(main: SQLiteConnection, keys: SQLiteConnection, path: String, keysPath: String) throws {
        let restore = "the two files are from different moments (restored from different backups?): restore both files from the same backup (README: Restore)"
        if let subject = try main.first("SELECT id FROM subjects WHERE erased_at IS NULL ORDER BY rowid DESC LIMIT 1")?.text(0),
           try keys.first("SELECT 1 FROM subject_keys WHERE subject_id = ?", [subject]) == nil {
            // The one other way: an erasure of that subject whose keys commit went through and whose data commit did not (answered 503).
            throw StoreError(
                "\(keysPath) has no key for subject \(subject), the newest in \(path): \(restore); or, if an erasure of that subject was answered 503, finish it with `refex subject erase \(subject)`",
                kind: .identity
            )
        }
        if let subject = try main.first("SELECT id FROM subjects WHERE erased_at IS NOT NULL ORDER BY erased_at DESC LIMIT 1")?.text(0),
           try keys.first("SELECT 1 FROM subject_keys WHERE subject_id = ?", [subject]) != nil {
            throw StoreError("\(keysPath) holds the key of subject \(subject), which \(path) records as erased: \(restore)", kind: .identity)
        }
    }

    /// A store made before identities were recorded: check what can be checked (the master key
    /// opens a subject key; the keys file is not an empty stand-in for a store with subjects),
    /// then record a new identity in both. Throws `StoreError` when the halves do not fit.
    static func adopt(main: SQLiteConnection, keys: SQLiteConnection, masterKey: SymmetricKey?, now: Int64) throws -> StoreIdentity {
        let subjects = try SQLiteTransaction.count(main, "SELECT count(*) FROM subjects WHERE erased_at IS NULL", table: "subjects")
        let keyed = try SQLiteTransaction.count(keys, "SELECT count(*) FROM subject_keys", table: "subject_keys")
        if subjects > 0 && keyed == 0 {
            throw StoreError(
                "the subject keys \(keys.path) hold no key, but the store \(main.path) holds \(subjects) subjects: the keys file is not this store's; restore both files from the same backup",
                kind: .identity
            )
        }
        if let masterKey, let row = try keys.first("SELECT subject_id, wrapped FROM subject_keys LIMIT 1"),
           let subjectID = row.text(0), let wrapped = row.blob(1) {
            do {
                _ = try Keyring(masterKey: masterKey).unwrap(WrappedSubjectKey(subjectID: subjectID, wrapped: wrapped))
            } catch {
                throw StoreError(
                    "the master key (masterKey, or the credential master-key) does not open the subject keys in \(keys.path): start refex with that store's own master key; nothing was changed",
                    kind: .identity
                )
            }
        }
        let storeID = SecureRandom.bytes(16).hexString
        let identity = StoreIdentity(storeID: storeID, keyCheck: masterKey.map { keyCheck(masterKey: $0, storeID: storeID) } ?? "")
        // Keys first, as every commit does.
        try keys.transaction { try identity.record(in: keys, now: now) }
        try main.transaction { try identity.record(in: main, now: now) }
        return identity
    }
}
