internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG.
package enum SecureRandom {
    package static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        // RAND_bytes fails only if the DRBG cannot be seeded; carrying on would be unsafe.
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            preconditionFailure("the random generator failed: \(OpenSSLErrorQueue.drain())")
        }
        return bytes
    }

    /// A random version-4 UUID in lower case, e.g. for referral and disclosure ids.
    package static func uuid() -> String {
        var bytes = self.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.hexString
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
