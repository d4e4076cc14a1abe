import Foundation
import TestSupport
import XCTest
@testable import TLS

final class TLSTests: XCTestCase {
    private func pem(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func testCertificateFieldsMatchOpenSSL() throws {
        let certificate = try XCTUnwrap(try Certificate.load(pemFile: try TestPKI.certificate("police")).first)
        XCTAssertEqual(certificate.subject, "CN=police,O=refex development")
        XCTAssertEqual(certificate.issuer, "CN=refex development CA,O=refex development")
        let expected = try TestPKI.fingerprint("police").replacingOccurrences(of: ":", with: "").lowercased()
        XCTAssertEqual(certificate.sha256Fingerprint, expected)
        XCTAssertLessThan(certificate.notBefore, Date())
        XCTAssertGreaterThan(certificate.notAfter, Date())
    }

    func testExpiredCertificateDatesAreRead() throws {
        let certificate = try XCTUnwrap(try Certificate.load(pemFile: try TestPKI.certificate("expired")).first)
        XCTAssertLessThan(certificate.notAfter, Date())
    }

    func testKeyMatchingIsChecked() throws {
        let server = try XCTUnwrap(try Certificate.load(pemFile: try TestPKI.certificate("server")).first)
        XCTAssertTrue(try privateKey(try pem(try TestPKI.key("server")), matches: server))
        XCTAssertFalse(try privateKey(try pem(try TestPKI.key("police")), matches: server))
        XCTAssertThrowsError(try privateKey(Array("not a key".utf8), matches: server))
    }

    func testServerContextRefusesAMismatchedKey() throws {
        let noCRLSign = try TestCA.root(subject: "/O=elsewhere/CN=certificates only", keyUsage: "critical,keyCertSign")
        let refused = try TLSServerContext.revocationProblems(clientCAPEM: try pem(noCRLSign.certificate), crlPEM: try pem(try noCRLSign.crl()), now: Date())
        XCTAssertTrue(refused.first?.contains("lacks cRLSign") ?? false, "\(refused)")
        XCTAssertThrowsError(try TLSServerContext(TLSServerConfiguration(
            certificateChainPEM: try pem(try TestPKI.certificate("server")),
            privateKeyPEM: try pem(try TestPKI.key("police")),
            clientCAPEM: try pem(try TestPKI.certificate("ca"))
        )))
    }

    /// A client and a server made from these contexts complete a mutual-TLS handshake over a socket pair.
    func testMutualHandshakeOverSocketPair() throws {
        let server = try TLSServerContext(TLSServerConfiguration(
            certificateChainPEM: try pem(try TestPKI.certificate("server")), privateKeyPEM: try pem(try TestPKI.key("server")),
            clientCAPEM: try pem(try TestPKI.certificate("ca")), crlPEM: try pem("\(try TestPKI.folder())/crl.pem")
        ))
        func client(_ name: String) throws -> TLSClientContext {
            try TLSClientContext(TLSClientConfiguration(
                trustedCAPEM: try pem(try TestPKI.certificate("ca")),
                certificateChainPEM: try pem(try TestPKI.certificate(name)), privateKeyPEM: try pem(try TestPKI.key(name))
            ))
        }
        let (serverResult, peer) = try handshake(server: server, client: try client("police"))
        XCTAssertEqual(serverResult, .done(0))
        XCTAssertEqual(peer?.subject, "CN=police,O=refex development")

        let (revokedResult, _) = try handshake(server: server, client: try client("revoked"))
        guard case .failed(let failure) = revokedResult else { return XCTFail("revoked certificate accepted: \(revokedResult)") }
        XCTAssertEqual(failure.reason, "revoked", failure.detail)
    }

    private func devServer(crl: String? = "crl.pem") throws -> TLSServerContext {
        try TLSServerContext(TLSServerConfiguration(
            certificateChainPEM: try pem(try TestPKI.certificate("server")), privateKeyPEM: try pem(try TestPKI.key("server")),
            clientCAPEM: try pem(try TestPKI.certificate("ca")), crlPEM: try crl.map { try pem("\(try TestPKI.folder())/\($0)") }
        ))
    }

    private func load(_ path: String) throws -> Certificate { try XCTUnwrap(try Certificate.load(pemFile: path).first) }

    func testNamesReadFromCertificatesEqualTheirRFC4514Text() throws {
        for name in ["police", "server", "ca", "other"] {
            let certificate = try load(try TestPKI.certificate(name))
            XCTAssertEqual(certificate.subjectName, try DistinguishedName(rfc4514: certificate.subject), name)
            XCTAssertEqual(certificate.issuerName, try DistinguishedName(rfc4514: certificate.issuer), name)
        }
        let escaped = try TestCA.root(subject: "/C=GB/O=Doe, Jane+UID=1/CN=A\\\\B")
        let certificate = try load(escaped.certificate)
        XCTAssertEqual(certificate.subjectName, try DistinguishedName(rfc4514: #"CN=A\\B,O=Doe\, Jane+UID=1,C=GB"#), certificate.subject)
    }

    func testClientChainsAreVerifiedAgainWithTheirReason() throws {
        let server = try devServer()
        let chain = try server.verifyClientChain([try load(try TestPKI.certificate("police"))]).get()
        XCTAssertEqual(chain.map(\.subject), ["CN=police,O=refex development", "CN=refex development CA,O=refex development"])
        for (name, reason) in [("revoked", "revoked"), ("expired", "expired"), ("other", "unknown_ca")] {
            guard case .failure(let failure) = server.verifyClientChain([try load(try TestPKI.certificate(name))]) else {
                return XCTFail("\(name) verified")
            }
            XCTAssertEqual(failure.reason, reason, failure.detail)
        }
        // Later than the certificate's notAfter: expired, though it verifies now.
        let police = try load(try TestPKI.certificate("police"))
        guard case .failure(let later) = server.verifyClientChain([police], at: police.notAfter.addingTimeInterval(60)) else {
            return XCTFail("verified after notAfter")
        }
        XCTAssertTrue(["expired", "crl_expired"].contains(later.reason), later.reason)
    }

    func testRevocationProblemsNameCAsWithoutCRLsAndForeignCRLs() throws {
        let caPEM = try pem(try TestPKI.certificate("ca"))
        XCTAssertEqual(try TLSServerContext.revocationProblems(clientCAPEM: caPEM, crlPEM: try pem("\(try TestPKI.folder())/crl.pem"), now: Date()), [])
        let other = try TestCA.root(subject: "/O=elsewhere/CN=another CA")
        let both = try pem(try TestCA.bundle([try TestPKI.certificate("ca"), other.certificate]))
        let problems = try TLSServerContext.revocationProblems(clientCAPEM: both, crlPEM: try pem("\(try TestPKI.folder())/crl.pem"), now: Date())
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertTrue(problems.first?.contains("CN=another CA,O=elsewhere has no CRL") ?? false, "\(problems)")
        let noCRLSign = try TestCA.root(subject: "/O=elsewhere/CN=certificates only", keyUsage: "critical,keyCertSign")
        let refused = try TLSServerContext.revocationProblems(clientCAPEM: try pem(noCRLSign.certificate), crlPEM: try pem(try noCRLSign.crl()), now: Date())
        XCTAssertTrue(refused.first?.contains("lacks cRLSign") ?? false, "\(refused)")
        XCTAssertThrowsError(try TLSServerContext(TLSServerConfiguration(
            certificateChainPEM: try pem(try TestPKI.certificate("server")), privateKeyPEM: try pem(try TestPKI.key("server")),
            clientCAPEM: both, crlPEM: try pem("\(try TestPKI.folder())/crl.pem")
        )))
    }

    /// A cached session (resumable by session id or ticket) ends no later than the client certificate.
    func testSessionLifetimeIsCappedAtTheCertificatesNotAfter() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let leaf = try root.client("leaf", subject: "/O=Root/CN=leaf", validFor: 30)
        let server = try TLSServerContext(TLSServerConfiguration(
            certificateChainPEM: try pem(try TestPKI.certificate("server")), privateKeyPEM: try pem(try TestPKI.key("server")),
            clientCAPEM: try pem(root.certificate)
        ))
        let client = try TLSClientContext(TLSClientConfiguration(
            trustedCAPEM: try pem(try TestPKI.certificate("ca")), certificateChainPEM: try pem(leaf.certificate), privateKeyPEM: try pem(leaf.key)
        ))
        var lifetime: Int?
        let (result, _) = try handshake(server: server, client: client) { lifetime = $0.sessionLifetime }
        XCTAssertEqual(result, .done(0))
        XCTAssertLessThanOrEqual(try XCTUnwrap(lifetime), 30)
        XCTAssertGreaterThan(try XCTUnwrap(lifetime), 0)
    }

    private func handshake(
        server: TLSServerContext, client: TLSClientContext, inspect: (TLSConnection) -> Void = { _ in }
    ) throws -> (TLSIOResult, Certificate?) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let clientFD = fds[1]
        let clientDone = DispatchSemaphore(value: 0)
        // The client must be finished with its fd before it is closed, or a later socket could reuse the number.
        defer {
            clientDone.wait()
            close(fds[0])
            close(fds[1])
        }
        let clientThread = Thread {
            defer { clientDone.signal() }
            if let connection = try? TLSConnection(client: client, fd: clientFD, serverName: "localhost") {
                _ = connection.handshake()
                var byte = [UInt8](repeating: 0, count: 1)
                _ = byte.withUnsafeMutableBytes { connection.read(into: $0) }
            }
        }
        clientThread.start()
        let connection = try TLSConnection(server: server, fd: fds[0])
        let result = connection.handshake()
        let peer = connection.peerCertificate
        inspect(connection)
        connection.shutdown()
        shutdown(fds[0], Int32(SHUT_RDWR))
        return (result, peer)
    }
}
