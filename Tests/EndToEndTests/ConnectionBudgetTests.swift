import Foundation
import JSON
import TestSupport
import XCTest

/// Connection budgets through the built daemon: sockets that never finish a handshake, and one
/// partner's idle connections, cannot deny service to another partner.
final class ConnectionBudgetTests: XCTestCase {
    private func idleSockets(port: UInt16, count: Int, sources: [String]) throws -> InteractiveProcess {
        try InteractiveProcess("python3", [
            "\(ProjectPaths.root)/Tests/scripts/idle_sockets.py", "--port", String(port), "--count", String(count),
            "--sources", sources.joined(separator: ","),
        ])
    }

    private func metric(_ refex: RefexProcess, _ line: String) throws -> Bool {
        try Curl.request(["\(refex.opsURL)/metrics"], as: nil).response?.body.contains(line) ?? false
    }

    /// The case: 1,100 idle TCP connections (more than maxConnections) from one address.
    func testIdleSocketsFromOneAddressDoNotLockPartnersOut() throws {
        let refex = try RefexProcess()
        let attack = try idleSockets(port: refex.apiPort, count: 1100, sources: ["127.0.0.2"])
        XCTAssertEqual(attack.readLine(timeout: 120), "{\"opened\": 1100}")
        for partner in ["partner-b", "police"] {
            let started = Date()
            let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: partner)
            XCTAssertEqual(response?.status, 200, result.errorOutput)
            XCTAssertLessThan(Date().timeIntervalSince(started), 3, "\(partner) waited behind the idle sockets")
        }
        XCTAssertTrue(try metric(refex, "refex_connections_rejected_total{listener=\"api\",reason=\"address_limit\"}"))
        attack.writeLine("done")
        let alive = try JSONValue.parse(try XCTUnwrap(attack.readLine()))["alive"]?.int64Value ?? -1
        XCTAssertLessThanOrEqual(alive, 64, "one address holds at most maxHandshakesPerAddress unfinished handshakes")
    }

    /// Many addresses, each within its share, together more than the handshake budget: the oldest
    /// unfinished handshakes of the busiest address make room, and a partner still gets in.
    func testIdleSocketsFromManyAddressesDoNotLockPartnersOut() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxHandshakes": 64, "maxHandshakesPerAddress": 8]]))
        let sources = (2..<42).map { "127.0.0.\($0)" }
        let attack = try idleSockets(port: refex.apiPort, count: 320, sources: sources)
        XCTAssertEqual(attack.readLine(timeout: 120), "{\"opened\": 320}")
        for _ in 0..<3 {
            let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "partner-b")
            XCTAssertEqual(response?.status, 200, result.errorOutput)
        }
        XCTAssertTrue(try metric(refex, "refex_connections_rejected_total{listener=\"api\",reason=\"handshake_budget\"}"))
        attack.writeLine("done")
        let alive = try JSONValue.parse(try XCTUnwrap(attack.readLine()))["alive"]?.int64Value ?? -1
        XCTAssertLessThanOrEqual(alive, 64)
    }

    /// The same from the partner's own address (a shared NAT): the idle sockets, once stale, make room.
    func testStaleIdleSocketsFromThePartnersOwnAddressMakeRoom() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxHandshakesPerAddress": 16]]))
        let attack = try idleSockets(port: refex.apiPort, count: 200, sources: ["127.0.0.1"])
        XCTAssertEqual(attack.readLine(timeout: 120), "{\"opened\": 200}")
        // Waiting out the staleness (one second) is the condition itself: before it, a burst from one
        // address beyond its share is refused, so that a client's own parallel handshakes are never cut.
        usleep(1_200_000)
        let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "partner-b")
        XCTAssertEqual(response?.status, 200, result.errorOutput)
        attack.writeLine("done")
        let alive = try JSONValue.parse(try XCTUnwrap(attack.readLine()))["alive"]?.int64Value ?? -1
        XCTAssertLessThanOrEqual(alive, 16)
    }

    /// One partner holding its whole share of idle connections gets 503 for more; another partner does not.
    func testOnePartnersIdleConnectionsDoNotStarveAnother() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxConnectionsPerPartner": 4]]))
        let holder = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "police") + ["hold", "--count", "4"])
        XCTAssertEqual(holder.readLine(timeout: 60), "{\"held\": 4}")
        // The held connections are counted once their handshakes finish on the server.
        var police: ClientResponse?
        for _ in 0..<50 {
            police = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response
            if police?.status == 503 { break }
        }
        XCTAssertEqual(police?.status, 503)
        XCTAssertEqual(police?.json?["type"]?.stringValue, "urn:refex:problem:connection-limit")
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "partner-b").response?.status, 200)
        XCTAssertTrue(try metric(refex, "refex_connections_rejected_total{listener=\"api\",reason=\"partner_limit\"}"))
        holder.writeLine("done")
        XCTAssertEqual(holder.readLine(), "{\"alive\": 4}")
        holder.terminate()
        var after: Int?
        for _ in 0..<100 {
            after = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status
            if after == 200 { break }
            usleep(50_000)
        }
        XCTAssertEqual(after, 200, "the partner's share is free again once its connections close")
    }
}
