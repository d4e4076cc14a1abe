import Foundation
internal import CLinux
import Logging

/// Accepts connections from one listening socket on one loop. Every loop has one per listening
/// socket, registered with EPOLLEXCLUSIVE so that one loop wakes for each new connection.
final class Listener: EventLoopHandler {
    let spec: ListenerSpec
    private let loop: EventLoop
    private let core: ServerCore
    private let logger: Logger
    private var lastAcceptError: UInt64 = 0

    init(spec: ListenerSpec, loop: EventLoop, core: ServerCore, logger: Logger) {
        self.spec = spec
        self.loop = loop
        self.core = core
        self.logger = logger
    }

    func handleEvents(_ events: UInt32) {
        // A bounded batch, so that one busy listener cannot starve the loop's connections.
        for _ in 0..<64 {
            let accepted: (fd: Int32, peer: ListenAddress?)?
            do {
                accepted = try Socket.accept(spec.fd)
            } catch {
                // EMFILE and friends: log at most once a second and let the loop breathe.
                let now = MonotonicClock.now()
                if now &- lastAcceptError > 1_000_000_000 {
                    lastAcceptError = now
                    logger.error("accept failed", [("listener", spec.name), ("error", "\(error)")])
                }
                return
            }
            guard let (fd, peer) = accepted else { return }
            if fd < 0 { continue }
            admit(fd: fd, peer: peer)
        }
    }

    private func admit(fd: Int32, peer: ListenAddress?) {
        if spec.loopbackOnly && !(peer?.isLoopback ?? false) {
            core.recordNonLoopbackRefused(listener: spec.name)
            close(fd)
            return
        }
        core.accepted(listener: spec)
        let connection: Connection
        do {
            connection = try Connection(fd: fd, loop: loop, core: core, listener: spec, peer: peer)
        } catch {
            logger.error("could not set up a connection", [("listener", spec.name), ("error", "\(error)")])
            close(fd)
            core.connectionClosed(listener: spec)
            return
        }
        let loop = self.loop
        let admitted = core.beginHandshake(listener: spec, id: connection.id, address: peer.map(Listener.budgetAddress) ?? "-") {
            loop.execute { connection.evictDuringHandshake() }
        }
        guard admitted else {
            connection.closeUnstarted()
            return
        }
        do {
            try connection.start()
        } catch {
            logger.error("could not set up a connection", [("listener", spec.name), ("error", "\(error)")])
            connection.closeUnstarted()
        }
    }

    func handleTick() {}

    /// The address a handshake share is counted under: an IPv4 address, or an IPv6 address's /64
    /// (one host commonly holds a whole /64, so counting single IPv6 addresses would bound nothing).
    /// An IPv4-mapped address (`::ffff:192.0.2.7`, what a dual-stack socket such as `refex.socket`'s
    /// reports for an IPv4 peer) counts as its IPv4 address: as a /64, every IPv4 client would share one share.
    static func budgetAddress(_ peer: ListenAddress) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard peer.host.contains(":"), inet_pton(AF_INET6, peer.host, &bytes) == 1 else { return peer.host }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12..<16].map { String($0) }.joined(separator: ".")
        }
        return stride(from: 0, to: 8, by: 2).map { String(format: "%02x%02x", bytes[$0], bytes[$0 + 1]) }.joined(separator: ":") + "::/64"
    }
}
