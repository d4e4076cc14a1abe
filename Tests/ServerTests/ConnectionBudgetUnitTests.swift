import Foundation
import HTTP
import Logging
import Metrics
import Synchronization
import XCTest
@testable import Server

/// The handshake and per-client budgets as values, without sockets.
final class ConnectionBudgetUnitTests: XCTestCase {
    struct NoResponder: HTTPResponder {
        func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply { .now(HTTPResponse(text: "")) }
        func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse { Problem(error).response }
        func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse { HTTPResponse(text: "") }
        func replyToTimeout(on connection: ConnectionContext) -> HTTPResponse { HTTPResponse(text: "") }
    }

    final class Evictions: Sendable {
        let ids = Mutex<[UInt64]>([])
        func action(_ id: UInt64) -> @Sendable () -> Void { { self.ids.withLock { $0.append(id) } } }
        var list: [UInt64] { ids.withLock { $0 } }
    }

    private func core() -> ServerCore {
        ServerCore(configuration: ServerConfiguration(), metrics: MetricsRegistry(), logger: Logger(sink: InMemoryLogSink(), level: .debug))
    }

    private func listener(handshakes: Int, perAddress: Int, connections: Int = 10, perClient: Int = 2) -> ListenerSpec {
        ListenerSpec(
            name: "api", fd: -1, tls: nil, responder: NoResponder(), maxConnections: connections,
            maxHandshakes: handshakes, maxHandshakesPerAddress: perAddress, maxConnectionsPerClient: perClient
        )
    }

    func testAFullHandshakeBudgetDisplacesTheOldestOfTheBusiestAddress() {
        let core = core()
        let spec = listener(handshakes: 4, perAddress: 10)
        let evictions = Evictions()
        for (id, address) in [(1, "a"), (2, "b"), (3, "b"), (4, "c")] as [(UInt64, String)] {
            XCTAssertTrue(core.beginHandshake(listener: spec, id: id, address: address, evict: evictions.action(id)))
        }
        XCTAssertEqual(evictions.list, [])
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 5, address: "d", evict: evictions.action(5)))
        XCTAssertEqual(evictions.list, [2], "b holds the most; its oldest goes")
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 6, address: "d", evict: evictions.action(6)))
        XCTAssertEqual(evictions.list, [2, 1], "a tie goes to the oldest")
        core.endHandshake(listener: spec, id: 3)
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 7, address: "e", evict: evictions.action(7)))
        XCTAssertEqual(evictions.list, [2, 1], "a finished handshake freed its slot")
    }

    func testAnAddressAtItsShareIsRefusedWhileItsHandshakesAreYoung() {
        let core = core()
        let spec = listener(handshakes: 100, perAddress: 2)
        let evictions = Evictions()
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 1, address: "a", evict: evictions.action(1)))
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 2, address: "a", evict: evictions.action(2)))
        XCTAssertFalse(core.beginHandshake(listener: spec, id: 3, address: "a", evict: evictions.action(3)))
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 4, address: "b", evict: evictions.action(4)), "another address is unaffected")
        XCTAssertEqual(evictions.list, [])
    }

    func testAnAddressAtItsShareMakesRoomOnceItsOldestHandshakeIsStale() {
        let time = ManualClock()
        let core = ServerCore(
            configuration: ServerConfiguration(), metrics: MetricsRegistry(), logger: Logger(sink: InMemoryLogSink()), clock: time.clock
        )
        let spec = listener(handshakes: 100, perAddress: 2)
        let evictions = Evictions()
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 1, address: "a", evict: evictions.action(1)))
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 2, address: "a", evict: evictions.action(2)))
        time.advance(by: .seconds(1))
        XCTAssertFalse(core.beginHandshake(listener: spec, id: 3, address: "a", evict: evictions.action(3)), "a second old is not yet stale")
        time.advance(nanoseconds: 1)
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 4, address: "a", evict: evictions.action(4)))
        XCTAssertEqual(evictions.list, [1], "the address's oldest made room")
        XCTAssertTrue(core.beginHandshake(listener: spec, id: 5, address: "a", evict: evictions.action(5)))
        XCTAssertEqual(evictions.list, [1, 2])
        XCTAssertFalse(core.beginHandshake(listener: spec, id: 6, address: "a", evict: evictions.action(6)), "its oldest now is young")
    }

    func testIPv6AddressesShareTheirSlash64() {
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "2001:db8:1:2::5", port: 1)), "2001:0db8:0001:0002::/64")
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "2001:db8:1:2:ffff::9", port: 1)), "2001:0db8:0001:0002::/64")
        XCTAssertNotEqual(Listener.budgetAddress(ListenAddress(host: "2001:db8:1:3::5", port: 1)), "2001:0db8:0001:0002::/64")
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "192.0.2.7", port: 1)), "192.0.2.7")
    }

    /// A dual-stack socket (refex.socket's BindIPv6Only=both) reports IPv4 peers as IPv4-mapped IPv6
    /// addresses: each is its own IPv4 address, not one /64 that every IPv4 client would share.
    func testIPv4MappedAddressesCountAsTheirIPv4Address() {
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "::ffff:192.0.2.7", port: 1)), "192.0.2.7")
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "::ffff:c000:208", port: 1)), "192.0.2.8")
        XCTAssertNotEqual(
            Listener.budgetAddress(ListenAddress(host: "::ffff:192.0.2.7", port: 1)), Listener.budgetAddress(ListenAddress(host: "::ffff:198.51.100.1", port: 1))
        )
        // Only the ::ffff:0:0/96 prefix is IPv4: other addresses in ::/64 remain one /64.
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "::1", port: 1)), "0000:0000:0000:0000::/64")
        XCTAssertEqual(Listener.budgetAddress(ListenAddress(host: "::fffe:192.0.2.7", port: 1)), "0000:0000:0000:0000::/64")
    }

    func testAClientIsCappedWithoutTouchingOthers() {
        let core = core()
        let spec = listener(handshakes: 10, perAddress: 10, connections: 3, perClient: 2)
        XCTAssertEqual(core.admitClient(listener: spec, key: "police"), .serve)
        XCTAssertEqual(core.admitClient(listener: spec, key: "police"), .serve)
        XCTAssertEqual(core.admitClient(listener: spec, key: "police"), .answer503(reason: "partner_limit"))
        XCTAssertEqual(core.admitClient(listener: spec, key: "hub"), .serve)
        XCTAssertEqual(core.admitClient(listener: spec, key: "other"), .answer503(reason: "limit"))
        core.clientClosed(listener: spec, key: "police")
        XCTAssertEqual(core.admitClient(listener: spec, key: "police"), .serve)
    }
}
