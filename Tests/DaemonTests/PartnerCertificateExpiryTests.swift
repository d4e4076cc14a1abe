import Daemon
import Foundation
import XCTest

/// What `refex_partner_certificate_expiry_seconds` reports: per partner, the soonest expiry among
/// the certificates it connected with in the last day.
final class PartnerCertificateExpiryTests: XCTestCase {
    func testSoonestRecentCertificatePerPartner() {
        let expiry = PartnerCertificateExpiry()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let soon = now.addingTimeInterval(10 * 86_400), later = now.addingTimeInterval(300 * 86_400)
        expiry.observe(partner: "police", fingerprint: "AA", notAfter: later, now: now)
        expiry.observe(partner: "police", fingerprint: "BB", notAfter: soon, now: now)
        expiry.observe(partner: "hub-admin", fingerprint: "CC", notAfter: later, now: now)
        XCTAssertEqual(expiry.soonest(now: now).map { $0.partner }, ["hub-admin", "police"])
        XCTAssertEqual(expiry.soonest(now: now).first { $0.partner == "police" }?.notAfter, soon)

        // The renewed certificate is the only one seen for a day: the old one is forgotten.
        let dayLater = now.addingTimeInterval(86_400 + 60)
        expiry.observe(partner: "police", fingerprint: "AA", notAfter: later, now: dayLater)
        XCTAssertEqual(expiry.soonest(now: dayLater).first { $0.partner == "police" }?.notAfter, later)
        XCTAssertNil(expiry.soonest(now: dayLater).first { $0.partner == "hub-admin" }, "hub-admin has not connected for a day")

        // A partner removed by a reload is dropped at once.
        expiry.keep(partners: ["hub-admin"])
        XCTAssertTrue(expiry.soonest(now: dayLater).isEmpty)
    }
}
