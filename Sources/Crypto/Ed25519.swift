import Foundation
internal import COpenSSL

/// An Ed25519 signing key (RFC 8032), for the disclosure log's checkpoints.
package final class Ed25519PrivateKey: @unchecked Sendable {
    // EVP_PKEY is immutable after creation and safe to use from several threads for signing.
    private let key: OpaquePointer

    /// A new random key.
    package init() throws {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { throw CryptoError("Ed25519 key generation") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw CryptoError("Ed25519 key generation")
        }
        self.key = key
    }

    /// Reads a PEM (PKCS #8) Ed25519 private key, e.g. from `openssl genpkey -algorithm ed25519`.
    package init(pem: [UInt8]) throws {
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw CryptoError("reading the Ed25519 key: not a PEM private key") }
        guard EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(key)
            throw CryptoError("reading the Ed25519 key: it is another kind of key", details: [])
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// The key as PEM (PKCS #8), to keep in a file readable only by refex.
    package func pem() throws -> [UInt8] {
        try writePEM { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 }
    }

    package var publicKey: Ed25519PublicKey {
        var length = 32
        var raw = [UInt8](repeating: 0, count: 32)
        _ = EVP_PKEY_get_raw_public_key(key, &raw, &length)
        // Every Ed25519 key has a 32-byte public key.
        guard let publicKey = try? Ed25519PublicKey(raw: raw) else { preconditionFailure("Ed25519 public key extraction failed") }
        return publicKey
    }

    /// The 64-byte signature of `message`.
    package func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError("Ed25519 signing") }
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1,
              EVP_DigestSign(context, &signature, &length, message, message.count) == 1, length == 64 else {
            throw CryptoError("Ed25519 signing")
        }
        return signature
    }
}

/// An Ed25519 public key: what an auditor keeps to check checkpoints.
package struct Ed25519PublicKey: Sendable, Hashable {
    /// The 32 raw bytes.
    package let raw: [UInt8]

    package init(raw: [UInt8]) throws {
        guard raw.count == 32 else { throw CryptoError("an Ed25519 public key is 32 bytes", details: []) }
        self.raw = raw
    }

    /// Reads PEM (SubjectPublicKeyInfo, as `openssl pkey -pubout` writes), or 64 hex digits.
    package init(text: [UInt8]) throws {
        let string = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let raw = [UInt8](hex: string) {
            try self.init(raw: raw)
            return
        }
        let key: OpaquePointer? = text.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key else { throw CryptoError("not an Ed25519 public key (PEM or 64 hex digits)", details: OpenSSLErrorQueue.drain()) }
        defer { EVP_PKEY_free(key) }
        guard EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 else { throw CryptoError("the public key is not Ed25519", details: []) }
        var length = 32
        var raw = [UInt8](repeating: 0, count: 32)
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1 else { throw CryptoError("reading the public key") }
        try self.init(raw: raw)
    }

    /// PEM (SubjectPublicKeyInfo).
    package func pem() throws -> [UInt8] {
        guard let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, raw.count) else { throw CryptoError("Ed25519 public key") }
        defer { EVP_PKEY_free(key) }
        return try writePEM { bio in PEM_write_bio_PUBKEY(bio, key) == 1 }
    }

    /// Whether `signature` is this key's signature of `message`.
    package func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64, let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, raw.count) else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let valid = EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1
            && EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
        OpenSSLErrorQueue.clear()
        return valid
    }

    /// A short id for the key: the first 8 bytes of SHA-256 of the raw key, in hex.
    package var keyID: String { Array(SHA256.hash(raw).prefix(8)).hexString }
}

private func writePEM(_ write: (OpaquePointer) -> Bool) throws -> [UInt8] {
    guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError("out of memory") }
    defer { BIO_free(bio) }
    guard write(bio) else { throw CryptoError("writing PEM") }
    var data: UnsafeMutablePointer<CChar>?
    let length = refex_BIO_get_mem_data(bio, &data)
    guard length > 0, let data else { throw CryptoError("writing PEM") }
    return Array(UnsafeRawBufferPointer(start: data, count: length))
}
