internal import COpenSSL

/// HMAC-SHA-256 (RFC 2104).
package enum HMACSHA256 {
    package static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                HMAC(Algorithms.shared.sha256, keyBytes.baseAddress, Int32(keyBytes.count), messageBytes.baseAddress, messageBytes.count, &output, &length)
            }
        }
        // HMAC with a built-in digest fails only when memory is exhausted.
        precondition(result != nil && length == 32, "HMAC-SHA-256 failed")
        return output
    }

    /// A key for one purpose derived from `key` (HMAC(key, label)): separate keys from one secret.
    package static func deriveKey(from key: [UInt8], label: String) -> [UInt8] {
        authenticationCode(for: Array(label.utf8), key: key)
    }
}

/// Constant-time comparison, for authentication codes and hashes.
package func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<lhs.count { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}
