import Crypto

/// The master key and what derives from it: wrapping subject keys, sealing personal data
/// under them, and keyed digests for idempotency.
package struct Keyring: Sendable {
    private let master: SymmetricKey
    private let digestKey: [UInt8]

    package init(masterKey: SymmetricKey) {
        master = masterKey
        digestKey = HMACSHA256.deriveKey(from: masterKey.bytes, label: "refex digest key v1")
    }

    /// Reads a master key file: 32 raw bytes, or 64 hex digits (with optional whitespace).
    package static func parseMasterKey(_ bytes: [UInt8]) -> SymmetricKey? {
        if bytes.count == 32 { return SymmetricKey(bytes: bytes) }
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        guard let raw = [UInt8](hex: text) else { return nil }
        return SymmetricKey(bytes: raw)
    }

    /// A new subject key and its wrapped form, bound to the subject id.
    package func newSubjectKey(subjectID: String) throws -> (key: SymmetricKey, wrapped: WrappedSubjectKey) {
        let key = SymmetricKey.random()
        let wrapped = try AESGCM.seal(key.bytes, key: master, associatedData: Array("subject-key|\(subjectID)".utf8))
        return (key, WrappedSubjectKey(subjectID: subjectID, wrapped: wrapped))
    }

    package func unwrap(_ wrapped: WrappedSubjectKey) throws -> SymmetricKey {
        let bytes = try AESGCM.open(wrapped.wrapped, key: master, associatedData: Array("subject-key|\(wrapped.subjectID)".utf8))
        guard let key = SymmetricKey(bytes: bytes) else { throw CryptoError("subject key unwrap: wrong length", details: []) }
        return key
    }

    /// Seals personal data under a subject key; `context` (e.g. `referral|<id>`) binds it to its row.
    package func seal(_ plaintext: [UInt8], key: SymmetricKey, context: String) throws -> [UInt8] {
        try AESGCM.seal(plaintext, key: key, associatedData: Array(context.utf8))
    }

    package func open(_ sealed: [UInt8], key: SymmetricKey, context: String) throws -> [UInt8] {
        try AESGCM.open(sealed, key: key, associatedData: Array(context.utf8))
    }

    /// A keyed digest: equal inputs give equal digests, but the digest tells nothing without the master key.
    package func digest(_ label: String, _ bytes: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticationCode(for: Array("\(label)|".utf8) + bytes, key: digestKey)
    }

    /// A key derived from the master key for one purpose, named by `label` (e.g. the blind indexes).
    func derivedKey(label: String) -> [UInt8] {
        HMACSHA256.deriveKey(from: master.bytes, label: label)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
