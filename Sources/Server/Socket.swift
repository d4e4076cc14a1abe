import Foundation
internal import CLinux

/// A TCP address to listen on, e.g. `127.0.0.1:8443` or `[::1]:8443`.
package struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: UInt16

    package init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the host is a loopback address (127.0.0.0/8 or ::1).
    package var isLoopback: Bool {
        host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }
}

/// Socket system calls, with errors that say which address failed.
package enum Socket {
    /// A non-blocking, close-on-exec listening socket bound to `address`.
    package static func listen(on address: ListenAddress, backlog: Int32 = 1024) throws -> Int32 {
        var storage = sockaddr_storage()
        let length = try fill(&storage, address)
        let family = Int32(storage.ss_family)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket", context: "for \(address)") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = SystemCallError("bind", context: "to \(address)")
            close(fd)
            throw error
        }
        guard Foundation.listen(fd, backlog) == 0 else {
            let error = SystemCallError("listen", context: "on \(address)")
            close(fd)
            throw error
        }
        return fd
    }

    private static func fill(_ storage: inout sockaddr_storage, _ address: ListenAddress) throws -> socklen_t {
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &storage) { raw in raw.copyBytes(from: withUnsafeBytes(of: v4) { Array($0) }) }
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &storage) { raw in raw.copyBytes(from: withUnsafeBytes(of: v6) { Array($0) }) }
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        throw SystemCallError("inet_pton", errno: EINVAL, context: "for \(address.host) (give an IP address)")
    }

    /// The address a listening socket is bound to (to learn an ephemeral port).
    package static func localAddress(of fd: Int32) -> ListenAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return nil }
        return describe(storage)
    }

    static func describe(_ storage: sockaddr_storage) -> ListenAddress? {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var addr = address.pointee.sin_addr
                    inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                    return ListenAddress(host: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: UInt16(bigEndian: address.pointee.sin_port))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var addr = address.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                    return ListenAddress(host: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: UInt16(bigEndian: address.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }

    /// Accepts one connection: its non-blocking fd and the peer's address; nil when none is waiting.
    static func accept(_ listener: Int32) throws -> (fd: Int32, peer: ListenAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = retryingOnInterrupt {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(listener, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
        }
        if fd < 0 {
            switch errno {
            case EAGAIN, EWOULDBLOCK: return nil
            // The peer gave up before we accepted: try the next one.
            case ECONNABORTED, EPROTO: return (-1, nil)
            default: throw SystemCallError("accept")
            }
        }
        var one: Int32 = 1
        // TLS 1.3 plus Nagle's algorithm delays small responses by tens of milliseconds.
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return (fd, describe(storage))
    }

    /// Whether `fd` is a listening TCP socket (for sockets passed by systemd).
    package static func isListeningStream(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 else { return false }
        return value == 1
    }

    package static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
}
