import Foundation
import TLS
import XCTest
@testable import Daemon

final class PartnerDirectoryTests: XCTestCase {
    private func certificate(fingerprint: String, subject: String, issuer: String) -> Certificate {
        Certificate(der: [], sha256Fingerprint: fingerprint, subject: subject, issuer: issuer, serialNumber: "01",
                    notBefore: .distantPast, notAfter: .distantFuture)
    }

    func testFindsPartnersByFingerprintThenBySubjectAndIssuer() {
        let fingerprint = String(repeating: "ab", count: 32)
        let directory = PartnerDirectory([
            Partner(id: "police", name: "P", roles: [.refer], certificates: [.fingerprint(fingerprint)]),
            Partner(id: "b", name: "B", roles: [.refer], certificates: [.subjectAndIssuer(subject: "CN=b, O=x", issuer: "cn=ca,O=x")]),
        ])
        XCTAssertEqual(directory.partner(for: certificate(fingerprint: fingerprint, subject: "CN=z", issuer: "CN=ca")).map(\.id), "police")
        XCTAssertEqual(directory.partner(for: certificate(fingerprint: "00", subject: "CN=b,O=x", issuer: "CN=ca,O=x")).map(\.id), "b")
        XCTAssertNil(directory.partner(for: certificate(fingerprint: "00", subject: "CN=b,O=x", issuer: "CN=other,O=x")))
    }

    func testFingerprintSpellingsAreNormalised() {
        let colon = (0..<32).map { _ in "AB" }.joined(separator: ":")
        XCTAssertEqual(CertificateMatch.normalizedFingerprint(colon), String(repeating: "ab", count: 32))
        XCTAssertNil(CertificateMatch.normalizedFingerprint("12:34"))
        XCTAssertNil(CertificateMatch.normalizedFingerprint(String(repeating: "g", count: 64)))
    }

    func testIdentifiersAreRestricted() {
        XCTAssertTrue(ConfigurationLoader.isIdentifier("partner-b"))
        XCTAssertFalse(ConfigurationLoader.isIdentifier("-b"))
        XCTAssertFalse(ConfigurationLoader.isIdentifier("Partner"))
        XCTAssertFalse(ConfigurationLoader.isIdentifier(""))
        XCTAssertFalse(ConfigurationLoader.isIdentifier(String(repeating: "a", count: 65)))
    }
}
