import Foundation

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`: records every message the
/// daemon sends, and lets a test wait for one.
package final class NotifySocket: @unchecked Sendable {
    package let path: String
    private let fd: Int32
    private let condition = NSCondition()
    private var messages: [String] = []
    private var closed = false

    package init(folder: String) throws {
        path = "\(folder)/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SubprocessError(description: "socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SubprocessError(description: "notify socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { throw SubprocessError(description: "bind \(path): \(errno)") }
        let thread = Thread { [self] in receive() }
        thread.start()
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 {
                if count < 0 && errno == EINTR { continue }
                break
            }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            condition.lock()
            messages.append(text)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Every message so far.
    package var received: [String] {
        condition.lock()
        defer { condition.unlock() }
        return messages
    }

    /// The first message with a line equal to `line`, waiting up to `timeout` seconds for it.
    package func wait(forLine line: String, timeout: TimeInterval = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let found = messages.first(where: { $0.split(separator: "\n").contains { $0 == line } }) { return found }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    /// Waits until `count` messages have a line equal to `line`; false on timeout.
    package func wait(forCount count: Int, ofLine line: String, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while messages.filter({ $0.split(separator: "\n").contains { $0 == line } }).count < count {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// How many messages so far have a line equal to `line`.
    package func count(ofLine line: String) -> Int {
        received.filter { $0.split(separator: "\n").contains { $0 == line } }.count
    }

    /// Stops receiving and removes the socket.
    package func close() {
        condition.lock()
        let wasClosed = closed
        closed = true
        condition.unlock()
        guard !wasClosed else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Foundation.close(fd)
        unlink(path)
    }
}
