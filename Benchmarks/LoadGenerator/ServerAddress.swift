import Foundation

/// The resolved address of the server, looked up once before the run, and blocking sockets connected to it.
struct ServerAddress: Sendable {
    private let family: Int32
    private let storage: [UInt8]
    let description: String

    init(host: String, port: UInt16) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw BenchError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        // Prefer IPv4 when the name has both, like most clients do for localhost.
        var chosen = first
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if entry.pointee.ai_family == AF_INET { chosen = entry; break }
            cursor = entry.pointee.ai_next
        }
        family = chosen.pointee.ai_family
        storage = Array(UnsafeRawBufferPointer(start: chosen.pointee.ai_addr, count: Int(chosen.pointee.ai_addrlen)))
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        _ = getnameinfo(chosen.pointee.ai_addr, chosen.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
        let numeric = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        description = "\(String(decoding: numeric, as: UTF8.self)):\(port)"
    }

    /// A connected blocking TCP socket with Nagle off and read/write timeouts.
    func connect(timeout: Double) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let result = storage.withUnsafeBytes { raw -> Int32 in
            var status: Int32
            repeat {
                status = Foundation.connect(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            } while status < 0 && errno == EINTR
            return status
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BenchError("connect to \(description): \(reason)")
        }
        return fd
    }
}

extension ServerAddress {
    /// A non-blocking TCP socket with Nagle off, connecting: `connected` is false while the connect is in progress
    /// (the socket becomes writable when it ends; `SO_ERROR` says how).
    func startConnect() throws(FailureEvent) -> (fd: Int32, connected: Bool) {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw FailureEvent(.connect, "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = storage.withUnsafeBytes { raw -> Int32 in
            var status: Int32
            repeat {
                status = Foundation.connect(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            } while status < 0 && errno == EINTR
            return status
        }
        if result == 0 { return (fd, true) }
        if errno == EINPROGRESS { return (fd, false) }
        let reason = String(cString: strerror(errno))
        close(fd)
        throw FailureEvent(.connect, "connect to \(description): \(reason)")
    }
}

/// Something that stops the run before it starts (bad files, unreachable server).
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
