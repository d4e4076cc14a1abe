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

    private func handshake(server: TLSServerContext, client: TLSClientContext) throws -> (TLSIOResult, Certificate?) {
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
        connection.shutdown()
        shutdown(fds[0], Int32(SHUT_RDWR))
        return (result, peer)
    }
}
