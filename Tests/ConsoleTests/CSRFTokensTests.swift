import Console
import Exchange
import XCTest

/// Form tokens bound to the certificate and the form's path, with an expiry.
final class CSRFTokensTests: XCTestCase {
    let tokens = CSRFTokens(key: Array(repeating: 7, count: 32), lifetimeSeconds: 600)
    let now = Timestamp(milliseconds: 1_780_000_000_000)
    let admin = String(repeating: "ab", count: 32)
    let other = String(repeating: "cd", count: 32)
    let erase = "POST /console/subjects/01a22a2c-61f3-78a3-a186-37ba5f93edfb/erase"

    func testATokenIsAcceptedForItsCertificateAndFormUntilItExpires() {
        let token = tokens.token(fingerprint: admin, action: erase, now: now)
        XCTAssertTrue(tokens.isValid(token, fingerprint: admin, action: erase, now: now))
        XCTAssertTrue(tokens.isValid(token, fingerprint: admin, action: erase, now: Timestamp(milliseconds: now.milliseconds + 599_000)))
        XCTAssertFalse(tokens.isValid(token, fingerprint: admin, action: erase, now: Timestamp(milliseconds: now.milliseconds + 600_000)), "expired")
    }

    func testATokenIsRefusedForAnotherCertificateFormOrProcess() {
        let token = tokens.token(fingerprint: admin, action: erase, now: now)
        XCTAssertFalse(tokens.isValid(token, fingerprint: other, action: erase, now: now), "another certificate")
        XCTAssertFalse(tokens.isValid(token, fingerprint: admin, action: erase.replacingOccurrences(of: "erase", with: "restrict"), now: now), "another form")
        XCTAssertFalse(tokens.isValid(token, fingerprint: admin, action: "POST /console/verify", now: now))
        let restarted = CSRFTokens(key: Array(repeating: 8, count: 32), lifetimeSeconds: 600)
        XCTAssertFalse(restarted.isValid(token, fingerprint: admin, action: erase, now: now), "another process's key")
        // The boundary between fingerprint and action cannot be moved.
        let shifted = tokens.token(fingerprint: admin + "P", action: "OST /console/verify", now: now)
        XCTAssertFalse(tokens.isValid(shifted, fingerprint: admin, action: "POST /console/verify", now: now))
    }

    func testTamperedAndMalformedTokensAreRefused() {
        let token = tokens.token(fingerprint: admin, action: erase, now: now)
        var bytes = Array(token.utf8)
        bytes[3] = bytes[3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertFalse(tokens.isValid(String(decoding: bytes, as: UTF8.self), fingerprint: admin, action: erase, now: now), "expiry pushed out")
        bytes = Array(token.utf8)
        bytes[bytes.count - 2] = bytes[bytes.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertFalse(tokens.isValid(String(decoding: bytes, as: UTF8.self), fingerprint: admin, action: erase, now: now), "MAC changed")
        // The last character carries two bits and four spare ones: another spelling of the same bytes is refused too.
        let last = token.last ?? "A"
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let index = alphabet.firstIndex(of: last) ?? 0
        let respelt = String(token.dropLast()) + String(alphabet[(index & ~0x0F) | ((index + 1) & 0x0F)])
        XCTAssertNotEqual(respelt, token)
        XCTAssertFalse(tokens.isValid(respelt, fingerprint: admin, action: erase, now: now), "the same bytes spelt another way")
        for bad in ["", "x", String(repeating: "A", count: 54), token + "A", String(token.dropLast()), token + "=", "BBBB" + String(token.dropFirst(4)), "<script>"] {
            XCTAssertFalse(tokens.isValid(bad, fingerprint: admin, action: erase, now: now), bad)
        }
    }
}
