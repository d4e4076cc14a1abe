internal import COpenSSL

/// OpenSSL algorithm objects fetched once. OpenSSL 3 looks an algorithm up in its providers on
/// every use of `EVP_sha256()` and friends (an "implicit fetch"); an explicitly fetched object
/// skips that, and may be shared by every thread.
final class Algorithms: @unchecked Sendable {
    // Fetched objects are immutable and reference-counted by OpenSSL; kept for the process's life.
    let sha256: OpaquePointer
    let aes256GCM: OpaquePointer

    static let shared = Algorithms()

    private init() {
        guard let sha256 = EVP_MD_fetch(nil, "SHA256", nil), let aes = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) else {
            // The default provider always has both; without them refex cannot run safely.
            preconditionFailure("OpenSSL's default provider lacks SHA-256 or AES-256-GCM: \(OpenSSLErrorQueue.drain())")
        }
        self.sha256 = sha256
        aes256GCM = aes
    }
}
