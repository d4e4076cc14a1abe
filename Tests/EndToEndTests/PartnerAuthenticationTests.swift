import JSON
import TestSupport
import XCTest

/// Mutual TLS and partner identification, through curl and openssl s_client against the built daemon.
final class PartnerAuthenticationTests: XCTestCase {
    static let refex = Shared<RefexProcess>()

    private func daemon() throws -> RefexProcess { try Self.refex.get { try RefexProcess() } }

    override class func tearDown() { refex.reset() }

    func testRegisteredPartnerIsToldWhoItIs() throws {
        let refex = try daemon()
        let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        let json = try XCTUnwrap(response?.json, result.errorOutput)
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(json["partner"]?.stringValue, "police")
        XCTAssertEqual(json["roles"], ["refer"])
        XCTAssertEqual(json["certificate"]?["sha256"]?.stringValue?.count, 64)
        XCTAssertEqual(response?.header("cache-control"), "no-store")
    }

    func testPartnerKnownBySubjectAndIssuerIsIdentified() throws {
        var config = try RefexProcess.config()
        var partners = config["partners"]?.arrayValue ?? []
        partners[1] = [
            "id": "partner-b", "name": "B", "roles": ["refer"],
            "certificates": [["subject": "CN=partner-b,O=refex development", "issuer": "CN=refex development CA,O=refex development"]],
        ]
        config["partners"] = .array(partners)
        let refex = try RefexProcess(config: config)
        let (_, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "partner-b")
        XCTAssertEqual(response?.json?["partner"]?.stringValue, "partner-b")
    }

    func testCertificateThatChainsButBelongsToNoPartnerGets403() throws {
        let refex = try daemon()
        let (_, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "unknown")
        XCTAssertEqual(response?.status, 403)
        XCTAssertEqual(response?.header("content-type"), "application/problem+json")
        XCTAssertEqual(response?.json?["type"]?.stringValue, "urn:refex:problem:unknown-certificate")
    }

    func testClientsWithoutAGoodCertificateGetNoResponse() throws {
        let refex = try daemon()
        for partner in [nil, "other", "revoked", "expired"] as [String?] {
            let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: partner)
            XCTAssertNotEqual(result.status, 0, "curl as \(partner ?? "no certificate") must fail")
            XCTAssertNil(response, "\(partner ?? "no certificate") must get no HTTP response")
        }
        // The refusals are counted by reason.
        let (_, metrics) = try Curl.request(["\(refex.opsURL)/metrics"], as: nil)
        let text = metrics?.body ?? ""
        for reason in ["no_certificate", "unknown_ca", "revoked", "expired"] {
            XCTAssertTrue(text.contains("refex_tls_handshake_failures_total{reason=\"\(reason)\"}"), "metrics lack \(reason):\n\(text)")
        }
    }

    func testEveryRefusedHandshakeIsLoggedOnceWithItsReasonAndPeer() throws {
        let refex = try RefexProcess()
        for (partner, reason) in [(nil, "no_certificate"), ("other", "unknown_ca"), ("revoked", "revoked"), ("expired", "expired")] as [(String?, String)] {
            XCTAssertNil(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: partner).response)
            XCTAssertTrue(refex.waitForLog("reason=\(reason)"), "no log line for \(reason):\n\(refex.logText)")
        }
        let lines = refex.logText.split(separator: "\n").filter { $0.contains("TLS handshake refused") }
        XCTAssertEqual(lines.count, 4, lines.joined(separator: "\n"))
        for line in lines { XCTAssertTrue(line.contains("peer=127.0.0.1:"), String(line)) }
    }

    func testAnUnregisteredCertificatesRefusalIsLoggedWithItsFingerprintAndRoute() throws {
        let refex = try daemon()
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/referrals/0190a0b0-0000-7000-8000-000000000000"], as: "unknown").response?.status, 403)
        let fingerprint = try TestPKI.fingerprint("unknown").replacingOccurrences(of: ":", with: "").lowercased()
        XCTAssertTrue(refex.waitForLog("certificate not registered"), refex.logText)
        let line = refex.logText.split(separator: "\n").first { $0.contains("certificate not registered") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains("sha256=\(fingerprint)"), line)
        XCTAssertTrue(line.contains("route=/v1/referrals/:id"), line)
        XCTAssertFalse(line.contains("0190a0b0"), "the id asked for is not logged: \(line)")
    }

    func testPlainHTTPOnTheTLSPortGetsA400SayingItSpeaksHTTPS() throws {
        let refex = try daemon()
        for method in ["GET", "POST", "DELETE", "OPTIONS"] {
            let result = try Subprocess.run("curl", ["-sS", "-i", "-X", method, "--max-time", "10", "http://127.0.0.1:\(refex.apiPort)/v1/whoami"])
            let response = Curl.parse(result.stdout)
            XCTAssertEqual(response?.status, 400, "\(method): \(result.output)\(result.errorOutput)")
            XCTAssertEqual(response?.header("content-type"), "application/problem+json")
            XCTAssertEqual(response?.json?["type"]?.stringValue, "urn:refex:problem:https-required")
            XCTAssertTrue(response?.json?["detail"]?.stringValue?.contains("HTTPS with a client certificate") ?? false)
            XCTAssertEqual(response?.header("x-request-id")?.count, 16, method)
            XCTAssertEqual(response?.header("cache-control"), "no-store", method)
            XCTAssertEqual(response?.header("x-content-type-options"), "nosniff", method)
        }
        XCTAssertTrue(refex.waitForLog("plain HTTP on the TLS port", count: 4), refex.logText)
        // A TLS client is not mistaken for one.
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status, 200)
    }

    func testTLS11AndBelowIsRefused() throws {
        let refex = try daemon()
        let (result, response) = try Curl.request(["--tls-max", "1.1", "\(refex.baseURL)/v1/whoami"], as: "police")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertNil(response)
    }

    func testOpenSSLClientNegotiatesTLS13AndOnlyAEADSuitesUnderTLS12() throws {
        let refex = try daemon()
        let ca = try TestPKI.certificate("ca")
        let base = ["s_client", "-connect", "127.0.0.1:\(refex.apiPort)", "-servername", "localhost", "-CAfile", ca,
                    "-cert", try TestPKI.certificate("police"), "-key", try TestPKI.key("police"), "-verify_return_error"]
        let tls13 = try Subprocess.run("openssl", base + ["-brief", "-ign_eof"], input: Data("GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertTrue(tls13.errorOutput.contains("Protocol version: TLSv1.3"), tls13.errorOutput)
        XCTAssertTrue(tls13.output.contains("HTTP/1.1 200 OK"), tls13.output)

        let cbc = try Subprocess.run("openssl", base + ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA"], input: Data())
        XCTAssertNotEqual(cbc.status, 0, "a CBC suite must be refused")
        let gcm = try Subprocess.run("openssl", base + ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-brief"], input: Data())
        XCTAssertTrue(gcm.errorOutput.contains("TLSv1.2"), gcm.errorOutput)
    }

    func testRenegotiationIsRefused() throws {
        let refex = try daemon()
        let args = ["s_client", "-connect", "127.0.0.1:\(refex.apiPort)", "-tls1_2", "-CAfile", try TestPKI.certificate("ca"),
                    "-cert", try TestPKI.certificate("police"), "-key", try TestPKI.key("police")]
        // "R" on its own line asks s_client to renegotiate; refex answers with a no_renegotiation alert.
        let result = try Subprocess.run("openssl", args, input: Data("R\n".utf8), timeout: 20)
        let text = result.output + result.errorOutput
        XCTAssertTrue(text.contains("RENEGOTIATING"), text)
        XCTAssertTrue(text.contains("no renegotiation"), text)
    }
}

/// One value shared by a test class's tests, made on first use.
final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?

    func get(_ make: () throws -> Value) throws -> Value {
        try lock.withLock {
            if let value { return value }
            let made = try make()
            value = made
            return made
        }
    }

    func reset() { lock.withLock { value = nil } }
}
