import Foundation
import TLS
import XCTest
@testable import Daemon

final class PartnerDirectoryTests: XCTestCase {
    private func certificate(fingerprint: String, subject: String, issuer: String) -> Certificate {
        Certificate(der: [], sha256Fingerprint: fingerprint, subject: subject, issuer: issuer, serialNumber: "01",
                    notBefore: .distantPast, notAfter: .distantFuture)
    }

    private func name(_ text: String) throws -> DistinguishedName { try DistinguishedName(rfc4514: text) }

    func testFindsPartnersByFingerprintThenBySubjectAndTheIssuingCACertificate() throws {
        let fingerprint = String(repeating: "ab", count: 32)
        let caFingerprint = String(repeating: "cd", count: 32)
        let directory = PartnerDirectory([
            Partner(id: "police", name: "P", roles: [.refer], certificates: [.fingerprint(fingerprint)]),
            Partner(id: "b", name: "B", roles: [.refer], certificates: [
                .subjectAndIssuer(subject: try name("CN=b, O=x"), issuer: try name("cn=ca,O=x"), issuerCertificate: caFingerprint),
            ]),
        ])
        let ca = certificate(fingerprint: caFingerprint, subject: "CN=ca,O=x", issuer: "CN=ca,O=x")
        XCTAssertEqual(directory.partner(for: [certificate(fingerprint: fingerprint, subject: "CN=z", issuer: "CN=ca")]).map(\.id), "police")
        XCTAssertEqual(directory.partner(for: [certificate(fingerprint: "00", subject: "CN=b,O=x", issuer: "CN=ca,O=x"), ca]).map(\.id), "b")
        // The same names through another CA certificate that borrows the name: no partner.
        let impostor = certificate(fingerprint: String(repeating: "ee", count: 32), subject: "CN=ca,O=x", issuer: "CN=hub,O=x")
        XCTAssertNil(directory.partner(for: [certificate(fingerprint: "00", subject: "CN=b,O=x", issuer: "CN=ca,O=x"), impostor]))
        // A subject mapping never matches without the chain that says who issued the certificate.
        XCTAssertNil(directory.partner(for: [certificate(fingerprint: "00", subject: "CN=b,O=x", issuer: "CN=ca,O=x")]))
        XCTAssertNil(directory.partner(for: [certificate(fingerprint: "00", subject: "CN=b,O=x", issuer: "CN=other,O=x"), ca]))
        XCTAssertNil(directory.partner(for: []))
    }

    func testAnEscapedCommaIsPartOfTheValueAndValuesAreNotCaseFolded() throws {
        let caFingerprint = String(repeating: "cd", count: 32)
        let directory = PartnerDirectory([
            Partner(id: "jane", name: "J", roles: [.refer], certificates: [
                .subjectAndIssuer(subject: try name(#"CN=Doe\, Jane,O=Police"#), issuer: try name("CN=ca"), issuerCertificate: caFingerprint),
            ]),
        ])
        let ca = certificate(fingerprint: caFingerprint, subject: "CN=ca", issuer: "CN=ca")
        func leaf(_ subject: DistinguishedName) -> Certificate {
            Certificate(der: [], sha256Fingerprint: "00", subject: "", issuer: "CN=ca", serialNumber: "01", notBefore: .distantPast,
                        notAfter: .distantFuture, subjectName: subject, issuerName: try? name("CN=ca"))
        }
        XCTAssertEqual(directory.partner(for: [leaf(try name(#"CN=Doe\2C Jane,O=Police"#)), ca])?.id, "jane")
        for other in [#"CN=Doe\,JANE,O=Police"#, #"CN=doe\, jane,O=Police"#, #"CN=Doe\, Jane,O=police"#, #"CN=Doe\, Jane+UID=x,O=Police"#,
                      #"CN=Doe\, Jane"#, #"CN=Doe\, Jane,O=Police,C=GB"#] {
            XCTAssertNil(directory.partner(for: [leaf(try name(other)), ca]), other)
        }
    }

    func testDistinguishedNamesParseRFC4514() throws {
        let name = try name(#"cn=Doe\, Jane+UID=jd , O=A\+B\;C\"D\\E, C=GB"#)
        XCTAssertEqual(name.rdns.count, 3)
        XCTAssertEqual(name.rdns[0].map(\.type), ["2.5.4.6"])
        XCTAssertEqual(name.rdns[1].map { String(decoding: $0.value, as: UTF8.self) }, [#"A+B;C"D\E"#])
        XCTAssertEqual(name.rdns[2].count, 2, "a multi-valued RDN")
        XCTAssertEqual(try self.name("2.5.4.3=x,O=y"), try self.name("CN=x,O=y"))
        XCTAssertEqual(try self.name("CN=x+UID=1,O=y"), try self.name("UID=1+CN=x,O=y"), "an RDN is a set")
        XCTAssertNotEqual(try self.name("CN=x,O=y"), try self.name("O=y,CN=x"), "RDN order matters")
        XCTAssertEqual(try self.name(#"CN=\C3\A9"#), try self.name("CN=é"))
        XCTAssertEqual(try self.name(#"CN=Doe\, Jane,O=Police"#).description, #"CN=Doe\, Jane,O=Police"#)
        for bad in ["", "CN", "CN=x,", "CN=x,JANE", #"CN=a"b"#, "CN=#0403", "XX=y", #"CN=x\"#, #"CN=\zz"#, "CN=x+CN=y", #"CN=\FF"#] {
            XCTAssertThrowsError(try self.name(bad), bad)
        }
    }

    func testFingerprintSpellingsAreNormalised() {
        let colon = (0..<32).map { _ in "AB" }.joined(separator: ":")
        XCTAssertEqual(CertificateMatch.normalizedFingerprint(colon), String(repeating: "ab", count: 32))
        XCTAssertNil(CertificateMatch.normalizedFingerprint("12:34"))
        XCTAssertNil(CertificateMatch.normalizedFingerprint(String(repeating: "g", count: 64)))
    }
}
