import Foundation
internal import COpenSSL

/// SHA-256 (FIPS 180-4).
package struct SHA256: ~Copyable {
    private let context: OpaquePointer

    /// A digest of `bytes` in one call.
    package static func hash<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, Algorithms.shared.sha256, nil)
        }
        // EVP_Digest with a fixed, built-in algorithm fails only when memory is exhausted.
        precondition(ok == 1 && length == 32, "SHA-256 failed: \(OpenSSLErrorQueue.drain())")
        return digest
    }

    package init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, Algorithms.shared.sha256, nil) == 1 else {
            preconditionFailure("SHA-256 context could not be created: \(OpenSSLErrorQueue.drain())")
        }
        self.context = context
    }

    package mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { input in
            _ = EVP_DigestUpdate(context, input.baseAddress, input.count)
        }
    }

    package consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }

    deinit { EVP_MD_CTX_free(context) }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal, two digits a byte.
    package var hexString: String {
        let bytes = Array(self)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            let digits: StaticString = "0123456789abcdef"
            let table = digits.utf8Start
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = table[Int(byte >> 4)]
                out[2 * index + 1] = table[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}

extension Array where Element == UInt8 {
    /// Bytes from hexadecimal (either case); nil if `text` is not whole bytes of hex digits.
    package init?(hex text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexNibble(utf8[index]), let low = hexNibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}

private func hexNibble(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}
