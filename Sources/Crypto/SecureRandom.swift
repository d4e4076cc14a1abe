import Foundation
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

    /// A version-7 UUID (RFC 9562) in lower case, for referral, subject and disclosure ids: 48 bits
    /// of Unix time in milliseconds, then 74 random bits. Ids made later sort later, so that
    /// inserts land at the end of each index instead of on a random page.
    package static func uuid() -> String {
        var bytes = self.bytes(16)
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let milliseconds = UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.hexString
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
