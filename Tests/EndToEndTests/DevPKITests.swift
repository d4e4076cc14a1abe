import Foundation
import TestSupport
import XCTest

/// `certs/dev-pki.sh`, checked with the openssl CLI: unique serials, and a CRL that revokes only
/// the certificate meant to be revoked.
final class DevPKITests: XCTestCase {
    private func openssl(_ arguments: [String]) throws -> SubprocessResult {
        try Subprocess.run("openssl", arguments)
    }

    func testEveryCertificateOfTheCAHasItsOwnSerial() throws {
        let pki = try TestPKI.folder()
        let caSubject = try openssl(["x509", "-in", "\(pki)/ca.crt", "-noout", "-subject"]).output
            .replacingOccurrences(of: "subject=", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        var serials: [String: String] = [:]
        let names = try FileManager.default.contentsOfDirectory(atPath: pki).filter { $0.hasSuffix(".crt") }.sorted()
        var issuedByCA = 0
        for name in names where name != "ca.crt" {
            let fields = try openssl(["x509", "-in", "\(pki)/\(name)", "-noout", "-serial", "-issuer"]).output
            let issuer = fields.split(separator: "\n").first { $0.hasPrefix("issuer=") }.map { $0.dropFirst(7).trimmingCharacters(in: .whitespaces) }
            guard issuer == caSubject else { continue }
            issuedByCA += 1
            let serial = try XCTUnwrap(fields.split(separator: "\n").first { $0.hasPrefix("serial=") }).dropFirst(7)
            XCTAssertNil(serials[String(serial)], "\(name) has the serial of \(serials[String(serial)] ?? "")")
            serials[String(serial)] = name
        }
        XCTAssertGreaterThanOrEqual(issuedByCA, 10, "the CA issued fewer certificates than dev-pki.sh makes: \(names)")
    }

    func testTheCRLRevokesOnlyTheRevokedCertificate() throws {
        let pki = try TestPKI.folder()
        for name in ["server", "sink-server", "police", "partner-b", "hub-admin", "sink", "unknown", "refex-client", "revoked"] {
            let result = try openssl(["verify", "-crl_check", "-CAfile", "\(pki)/ca.crt", "-CRLfile", "\(pki)/crl.pem", "\(pki)/\(name).crt"])
            if name == "revoked" {
                XCTAssertNotEqual(result.status, 0, "crl.pem does not revoke revoked.crt")
                XCTAssertTrue((result.output + result.errorOutput).contains("revoked"), result.output + result.errorOutput)
            } else {
                XCTAssertEqual(result.status, 0, "\(name).crt: \(result.output + result.errorOutput)")
            }
        }
    }
}
