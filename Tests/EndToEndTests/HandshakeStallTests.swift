import Foundation
import JSON
import TestSupport
import XCTest

/// Clients that send a ClientHello and then stall (the server has answered and waits for the
/// client's certificate) hold handshake slots, not partners' ones: a partner still gets in, and
/// every stalled handshake is closed at `limits.handshakeTimeoutSeconds`.
final class HandshakeStallTests: XCTestCase {
    private func metrics(_ refex: RefexProcess) throws -> String {
        try Curl.request(["\(refex.opsURL)/metrics"], as: nil).response?.body ?? ""
    }

    func testStalledClientHellosDoNotLockPartnersOutAndEndAtTheTimeout() throws {
        let refex = try RefexProcess(config: try RefexProcess.config([
            "limits": ["eventLoops": 2, "maxHandshakes": 64, "maxHandshakesPerAddress": 8, "handshakeTimeoutSeconds": 2],
        ]))
        let attack = try InteractiveProcess("python3", [
            "\(ProjectPaths.root)/Tests/scripts/idle_sockets.py", "--port", String(refex.apiPort), "--count", "300", "--client-hello",
            "--sources", (2..<12).map { "127.0.0.\($0)" }.joined(separator: ","),
        ])
        defer { attack.terminate() }
        XCTAssertEqual(attack.readLine(timeout: 120), "{\"opened\": 300}")
        for partner in ["partner-b", "police"] {
            let started = Date()
            let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: partner)
            XCTAssertEqual(response?.status, 200, result.errorOutput)
            XCTAssertLessThan(Date().timeIntervalSince(started), 3, "\(partner) waited behind the stalled handshakes")
        }
        // The stalled handshakes end at the timeout: none is left open, and it is counted.
        let deadline = Date().addingTimeInterval(20)
        var text = try metrics(refex)
        while Date() < deadline, !text.contains("refex_connections_handshaking{listener=\"api\"} 0") {
            usleep(200_000)
            text = try metrics(refex)
        }
        XCTAssertTrue(text.contains("refex_connections_handshaking{listener=\"api\"} 0"), text)
        XCTAssertTrue(text.contains("refex_connection_timeouts_total{listener=\"api\",phase=\"handshake\"}"), text)
        attack.writeLine("done")
        XCTAssertEqual(attack.readLine(timeout: 20), "{\"alive\": 0}")
    }

    /// refex.socket listens dual-stack (BindIPv6Only=both): IPv4 peers arrive as ::ffff:a.b.c.d. Each
    /// is its own address for the per-address share, not one ::/64 for every IPv4 client: another
    /// address's young handshakes at their share do not refuse a partner.
    func testIPv4PeersOfADualStackSocketHaveAShareEach() throws {
        let ports = ProjectPaths.temporaryDirectory() + "/ports.json"
        let refex = try RefexProcess(
            config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxHandshakesPerAddress": 8]]),
            launcher: [
                "python3", "\(ProjectPaths.root)/Tests/scripts/socket_activate.py", "--listen", "ops=127.0.0.1:0", "--listen", "api=[::]:0",
                "--ports", ports, "--",
            ]
        )
        let attack = try InteractiveProcess("python3", [
            "\(ProjectPaths.root)/Tests/scripts/idle_sockets.py", "--port", String(refex.apiPort), "--count", "100", "--sources", "127.0.0.2",
        ])
        defer { attack.terminate() }
        XCTAssertEqual(attack.readLine(timeout: 60), "{\"opened\": 100}")
        // At once, while the idle sockets are young (under a second: none may yet be displaced).
        let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        XCTAssertEqual(response?.status, 200, result.errorOutput + refex.logText)
        XCTAssertTrue(try metrics(refex).contains("refex_connections_rejected_total{listener=\"api\",reason=\"address_limit\"}"))
        attack.writeLine("done")
        let alive = try JSONValue.parse(try XCTUnwrap(attack.readLine()))["alive"]?.int64Value ?? -1
        XCTAssertLessThanOrEqual(alive, 8)
    }
}
