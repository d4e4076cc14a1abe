import Crypto
import Exchange
import Foundation

/// The console's CSRF tokens: each names the client certificate (its SHA-256 fingerprint) and the
/// form's action (method and path) it was made for, and when it stops being accepted, under an
/// HMAC-SHA-256 with a key that lives only in this process (a restart invalidates open forms).
///
/// Token: base64url(expiry as 8 bytes big-endian, seconds since 1970 ‖ HMAC(key, "refex-console-csrf" ‖
/// fingerprint ‖ action ‖ expiry)).
package struct CSRFTokens: Sendable {
    private let key: [UInt8]
    /// How long a form stays usable.
    package let lifetimeSeconds: Int64

    package init(key: [UInt8] = SecureRandom.bytes(32), lifetimeSeconds: Int64 = 3600) {
        self.key = key
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// A token for the form posting to `action` (`POST /console/subjects/ID/erase`) shown to `fingerprint`.
    package func token(fingerprint: String, action: String, now: Timestamp) -> String {
        let expiry = now.milliseconds / 1000 + lifetimeSeconds
        return Self.base64url(Self.bytes(expiry) + mac(fingerprint: fingerprint, action: action, expiry: expiry))
    }

    /// Whether `token` was made by this process for `fingerprint` and `action`, and has not expired at `now`.
    package func isValid(_ token: String, fingerprint: String, action: String, now: Timestamp) -> Bool {
        // Only the one spelling this process writes: base64url leaves spare bits in the last
        // character, and a token spelt two ways is not the token that was given out.
        guard token.utf8.count == 54, let decoded = Self.decodeBase64url(token), decoded.count == 40, Self.base64url(decoded) == token else {
            return false
        }
        let expiry = decoded.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        guard expiry > now.milliseconds / 1000 else { return false }
        return constantTimeEquals(Array(decoded.suffix(32)), mac(fingerprint: fingerprint, action: action, expiry: expiry))
    }

    private func mac(fingerprint: String, action: String, expiry: Int64) -> [UInt8] {
        // Lengths first, so that no two (fingerprint, action) pairs share a message.
        var message = Array("refex-console-csrf".utf8)
        for part in [Array(fingerprint.utf8), Array(action.utf8)] {
            message += Self.bytes(Int64(part.count))
            message += part
        }
        message += Self.bytes(expiry)
        return HMACSHA256.authenticationCode(for: message, key: key)
    }

    private static func bytes(_ value: Int64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64url(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }) else {
            return nil
        }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}
