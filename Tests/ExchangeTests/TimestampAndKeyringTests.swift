import Crypto
import XCTest
@testable import Exchange

final class TimestampAndKeyringTests: XCTestCase {
    func testRFC3339RoundTripsAndOffsetsAreApplied() {
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-29T07:16:37.123Z")?.description, "2026-11-29T07:16:37.123Z")
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-29T08:16:37+01:00")?.description, "2026-11-29T07:16:37.000Z")
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-29T07:16:37.123456789Z")?.milliseconds, Timestamp(rfc3339: "2026-11-29T07:16:37.123Z")?.milliseconds)
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-29T07:16:37.5Z")?.description, "2026-11-29T07:16:37.500Z")
        XCTAssertNil(Timestamp(rfc3339: "yesterday"))
    }

    func testSubjectKeysWrapAndBind() throws {
        let keyring = Keyring(masterKey: SymmetricKey.random())
        let (key, wrapped) = try keyring.newSubjectKey(subjectID: "s1")
        XCTAssertEqual(try keyring.unwrap(wrapped).bytes, key.bytes)
        var moved = wrapped
        moved.subjectID = "s2"
        XCTAssertThrowsError(try keyring.unwrap(moved), "a wrapped key moved to another subject must not open")
        XCTAssertThrowsError(try Keyring(masterKey: SymmetricKey.random()).unwrap(wrapped))
        let sealed = try keyring.seal(Array("hello".utf8), key: key, context: "referral|1")
        XCTAssertEqual(try keyring.open(sealed, key: key, context: "referral|1"), Array("hello".utf8))
        XCTAssertThrowsError(try keyring.open(sealed, key: key, context: "referral|2"))
    }

    func testMasterKeyFileFormats() {
        XCTAssertNotNil(Keyring.parseMasterKey(Array(repeating: 7, count: 32)))
        XCTAssertNotNil(Keyring.parseMasterKey(Array((String(repeating: "ab", count: 32) + "\n").utf8)))
        XCTAssertNil(Keyring.parseMasterKey(Array("short".utf8)))
    }

    func testConsentCoverage() {
        let now = Timestamp(milliseconds: 1000)
        var consent = ConsentRecord(id: "c", subjectID: "s", referralID: "r", partnerID: "p", purposes: ["fraud"], recipients: nil,
                                    method: "verbal", obtainedAt: now, expiresAt: nil, withdrawnAt: nil, sealedDetails: nil, recordedAt: now)
        XCTAssertTrue(consent.covers(service: "fraud", recipient: "any", at: now))
        XCTAssertFalse(consent.covers(service: "translation", recipient: "any", at: now))
        consent.recipients = ["x"]
        XCTAssertFalse(consent.covers(service: "fraud", recipient: "y", at: now))
        XCTAssertTrue(consent.covers(service: "fraud", recipient: "x", at: now))
        consent.expiresAt = now
        XCTAssertFalse(consent.covers(service: "fraud", recipient: "x", at: now), "consent expiring now no longer covers")
        consent.expiresAt = nil
        consent.withdrawnAt = now
        XCTAssertFalse(consent.covers(service: "fraud", recipient: "x", at: now))
    }
}
