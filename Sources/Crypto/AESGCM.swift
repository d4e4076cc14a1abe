internal import COpenSSL

/// AES-256-GCM: authenticated encryption for personal data at rest and for wrapping keys.
///
/// A sealed box is `nonce (12) ‖ ciphertext ‖ tag (16)`; the nonce is random for every seal.
/// The associated data binds a box to where it belongs (e.g. the referral id), so that a box
/// moved to another row fails to open.
package enum AESGCM {
    package static let keySize = 32
    static let nonceSize = 12
    static let tagSize = 16

    /// Encrypts `plaintext` under `key` (32 bytes).
    package static func seal(_ plaintext: [UInt8], key: SymmetricKey, associatedData: [UInt8] = []) throws -> [UInt8] {
        let nonce = SecureRandom.bytes(nonceSize)
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError("AES-GCM") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: nonceSize + plaintext.count + tagSize)
        for index in 0..<nonceSize { output[index] = nonce[index] }
        var length: Int32 = 0
        let ok: Bool = key.bytes.withUnsafeBufferPointer { keyBytes in
            guard EVP_EncryptInit_ex(context, Algorithms.shared.aes256GCM, nil, nil, nil) == 1,
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceSize), nil) == 1,
                  EVP_EncryptInit_ex(context, nil, nil, keyBytes.baseAddress, nonce) == 1 else { return false }
            if !associatedData.isEmpty {
                guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else { return false }
            }
            return output.withUnsafeMutableBufferPointer { out -> Bool in
                guard let base = out.baseAddress else { return false }
                var written: Int32 = 0
                if !plaintext.isEmpty {
                    guard EVP_EncryptUpdate(context, base + nonceSize, &written, plaintext, Int32(plaintext.count)) == 1 else { return false }
                }
                var final: Int32 = 0
                guard EVP_EncryptFinal_ex(context, base + nonceSize + Int(written), &final) == 1 else { return false }
                return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), base + nonceSize + plaintext.count) == 1
            }
        }
        guard ok else { throw CryptoError("AES-GCM encryption") }
        return output
    }

    /// Decrypts and authenticates a sealed box; throws if it was altered, or the key or associated data differ.
    package static func open(_ box: [UInt8], key: SymmetricKey, associatedData: [UInt8] = []) throws -> [UInt8] {
        guard box.count >= nonceSize + tagSize else { throw CryptoError("AES-GCM decryption: the box is too short", details: []) }
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError("AES-GCM") }
        defer { EVP_CIPHER_CTX_free(context) }
        let ciphertextCount = box.count - nonceSize - tagSize
        var plaintext = [UInt8](repeating: 0, count: ciphertextCount)
        var length: Int32 = 0
        let ok: Bool = key.bytes.withUnsafeBufferPointer { keyBytes in
            box.withUnsafeBufferPointer { boxBytes in
                guard let boxBase = boxBytes.baseAddress,
                      EVP_DecryptInit_ex(context, Algorithms.shared.aes256GCM, nil, nil, nil) == 1,
                      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceSize), nil) == 1,
                      EVP_DecryptInit_ex(context, nil, nil, keyBytes.baseAddress, boxBase) == 1 else { return false }
                if !associatedData.isEmpty {
                    guard EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else { return false }
                }
                return plaintext.withUnsafeMutableBufferPointer { out -> Bool in
                    var written: Int32 = 0
                    if ciphertextCount > 0 {
                        guard let outBase = out.baseAddress,
                              EVP_DecryptUpdate(context, outBase, &written, boxBase + nonceSize, Int32(ciphertextCount)) == 1 else { return false }
                    }
                    let tag = UnsafeMutableRawPointer(mutating: boxBase + nonceSize + ciphertextCount)
                    guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), tag) == 1 else { return false }
                    var final: Int32 = 0
                    var scratch = [UInt8](repeating: 0, count: 16)
                    return EVP_DecryptFinal_ex(context, &scratch, &final) == 1
                }
            }
        }
        guard ok else {
            OpenSSLErrorQueue.clear()
            throw CryptoError("AES-GCM decryption: the data was altered, or the key is not the one it was sealed with", details: [])
        }
        return plaintext
    }
}

/// A 256-bit secret key. Its bytes are never printed.
package struct SymmetricKey: Sendable, CustomStringConvertible {
    package let bytes: [UInt8]

    package init?(bytes: [UInt8]) {
        guard bytes.count == AESGCM.keySize else { return nil }
        self.bytes = bytes
    }

    /// A new random key.
    package static func random() -> SymmetricKey {
        SymmetricKey(unchecked: SecureRandom.bytes(AESGCM.keySize))
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    package var description: String { "SymmetricKey(redacted)" }
}
