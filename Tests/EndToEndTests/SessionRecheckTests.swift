import Foundation
import JSON
import TestSupport
import XCTest

/// A verified client stays verified only as long as what verified it: resumed sessions (TLS 1.3
/// and 1.2, by ticket and by session id) and long-lived connections are checked again, and sessions
/// live no longer than the certificate or the CRL. Through the built daemon, `openssl s_client` and
/// Python's ssl module; the certificates and CRLs expire seconds into the test.
final class SessionRecheckTests: XCTestCase {
    /// Each way a client resumes: the TLS version and whether by ticket or by session id.
    static let variants: [(name: String, options: [String])] = [
        ("TLS 1.3 ticket", ["-tls1_3"]), ("TLS 1.2 ticket", ["-tls1_2"]), ("TLS 1.2 session id", ["-tls1_2", "-no_ticket"]),
    ]

    /// `GET /v1/whoami` through `openssl s_client` as `client`, with `options` (e.g. `-sess_out`).
    static func sClient(_ refex: RefexProcess, _ client: TestClient, _ options: [String]) throws -> SubprocessResult {
        try Subprocess.run("openssl", [
            "s_client", "-connect", "127.0.0.1:\(refex.apiPort)", "-servername", "localhost", "-CAfile", try TestPKI.certificate("ca"),
            "-cert", client.certificate, "-key", client.key, "-ign_eof",
        ] + options, input: Data("GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8), timeout: 20)
    }

    /// The server's `TLS session ticket lifetime hint: N (seconds)` in a saved session (tickets only:
    /// the session's own `Timeout` is the client's setting).
    private func ticketLifetime(_ path: String) throws -> Int? {
        let text = try Subprocess.run("openssl", ["sess_id", "-in", path, "-noout", "-text"]).output
        guard let line = text.split(separator: "\n").first(where: { $0.contains("ticket lifetime hint") }) else { return nil }
        return Int(line.split(separator: ":").last?.split(separator: " ").first ?? "")
    }

    private func wait(until date: Date) {
        while Date() < date { usleep(100_000) }
    }

    func testResumedSessionsEndWithTheCertificate() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let client = try root.client("short", subject: "/O=Root/CN=short", validFor: 14)
        let notAfter = Date().addingTimeInterval(14)
        let refex = try RefexProcess(config: try IdentityTests.config(
            clientCAs: [root.certificate], crls: [try root.crl()], partners: [try IdentityTests.partner("short", sha256: client.certificate)]
        ))
        let folder = ProjectPaths.temporaryDirectory("refex-sessions")
        for (index, variant) in Self.variants.enumerated() {
            let session = "\(folder)/\(index).pem"
            let first = try Self.sClient(refex, client, variant.options + ["-sess_out", session])
            XCTAssertTrue(first.output.contains("HTTP/1.1 200 OK"), "\(variant.name): \(first.output)\(first.errorOutput)")
            let resumed = try Self.sClient(refex, client, variant.options + ["-sess_in", session])
            XCTAssertTrue(resumed.output.contains("Reused,"), "\(variant.name) did not resume: \(resumed.output)")
            XCTAssertTrue(resumed.output.contains("HTTP/1.1 200 OK"), "\(variant.name): \(resumed.output)")
            // A ticket lives no longer than the certificate (a cached session id likewise: TLSTests).
            if !variant.options.contains("-no_ticket") {
                let lifetime = try XCTUnwrap(try ticketLifetime(session), variant.name)
                XCTAssertLessThanOrEqual(lifetime, 14, variant.name)
            }
        }
        // Halfway: a ticket issued on resumption lives only as long as the certificate has left.
        wait(until: notAfter.addingTimeInterval(-7))
        let renewed = "\(folder)/renewed.pem"
        let halfway = try Self.sClient(refex, client, ["-tls1_3", "-sess_in", "\(folder)/0.pem", "-sess_out", renewed])
        XCTAssertTrue(halfway.output.contains("Reused,"), halfway.output)
        XCTAssertLessThanOrEqual(try XCTUnwrap(try ticketLifetime(renewed)), 8, "a ticket issued on resumption outlives the certificate")

        wait(until: notAfter.addingTimeInterval(1.5))
        for (index, variant) in Self.variants.enumerated() {
            let late = try Self.sClient(refex, client, variant.options + ["-sess_in", "\(folder)/\(index).pem"])
            XCTAssertFalse(late.output.contains("HTTP/1.1 200"), "\(variant.name) served after notAfter: \(late.output)")
        }
        XCTAssertTrue(refex.waitForLog("reason=expired"), refex.logText)
    }

    func testLongLivedConnectionsAreCheckedBeforeEveryRequest() throws {
        let root = try TestCA.root(subject: "/O=Root/CN=Root CA")
        let short = try root.client("short", subject: "/O=Root/CN=short", validFor: 8)
        let shortNotAfter = Date().addingTimeInterval(8)
        let long = try root.client("long", subject: "/O=Root/CN=long")
        let crl = try root.crl(seconds: 16)
        let crlNextUpdate = Date().addingTimeInterval(16)
        let refex = try RefexProcess(config: try IdentityTests.config(
            clientCAs: [root.certificate], crls: [crl],
            partners: [try IdentityTests.partner("short", sha256: short.certificate), try IdentityTests.partner("long", sha256: long.certificate)]
        ))
        let whoami = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
        func keepAlive(_ client: TestClient) throws -> InteractiveProcess {
            try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: nil) + [
                "--cert", client.certificate, "--key", client.key, "--read-seconds", "5", "pause", "--first", whoami, "--rest", whoami,
            ])
        }
        let shortConnection = try keepAlive(short)
        let longConnection = try keepAlive(long)
        XCTAssertEqual(shortConnection.readLine(), "{\"sent\": \"first\"}")
        XCTAssertEqual(longConnection.readLine(), "{\"sent\": \"first\"}")
        let session = ProjectPaths.temporaryDirectory("refex-sessions") + "/long.pem"
        XCTAssertTrue(try Self.sClient(refex, long, ["-sess_out", session]).output.contains("HTTP/1.1 200 OK"))
        XCTAssertLessThanOrEqual(try XCTUnwrap(try ticketLifetime(session)), 16, "a ticket lives no longer than the CRL")

        // The certificate expires: its connection's next request is not served; the other's is.
        wait(until: shortNotAfter.addingTimeInterval(1))
        shortConnection.writeLine("go")
        let shortResult = try JSONValue.parse(try XCTUnwrap(shortConnection.readLine()))
        XCTAssertEqual(shortResult["response"]?.stringValue?.components(separatedBy: "HTTP/1.1 200 OK").count, 2, "only the answer before notAfter")
        XCTAssertEqual(shortResult["closed"], true)
        XCTAssertTrue(refex.waitForLog("its client certificate no longer verifies"), refex.logText)
        XCTAssertEqual(try IdentityTests.whoami(refex, long).1?.status, 200)

        // The CRL passes its next update: nobody is served, it is logged at error, /readyz says why.
        wait(until: crlNextUpdate.addingTimeInterval(1))
        longConnection.writeLine("go")
        let longResult = try JSONValue.parse(try XCTUnwrap(longConnection.readLine()))
        XCTAssertEqual(longResult["response"]?.stringValue?.components(separatedBy: "HTTP/1.1 200 OK").count, 2, "only the answer before nextUpdate")
        XCTAssertEqual(longResult["closed"], true)
        XCTAssertTrue(refex.waitForLog("reason=crl_expired"), refex.logText)
        XCTAssertFalse(try Self.sClient(refex, long, ["-sess_in", session]).output.contains("HTTP/1.1 200"), "a resumed session after nextUpdate")
        XCTAssertNil(try IdentityTests.whoami(refex, long).1)
        XCTAssertTrue(refex.waitForLog("every partner is refused"), refex.logText)
        let ready = try Curl.request(["\(refex.opsURL)/readyz"], as: nil).response
        XCTAssertEqual(ready?.status, 503)
        XCTAssertTrue(ready?.body.contains("the CRL has expired") ?? false, ready?.body ?? "")
    }
}
