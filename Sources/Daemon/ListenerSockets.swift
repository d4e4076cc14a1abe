import Foundation
import Server

/// The listening sockets: passed by systemd (socket activation, sd_listen_fds(3)) or bound here.
///
/// systemd passes sockets as descriptors 3, 4, … with `LISTEN_FDS` (how many), `LISTEN_PID` (the
/// process they are meant for) and `LISTEN_FDNAMES` (colon-separated, from each socket unit's
/// `FileDescriptorName=`). refex takes the one named `api` for partners and the one named `ops` for
/// operations; a single socket without those names is the partner listener. Whatever is not
/// passed is bound from the config.
enum ListenerSockets {
    /// Where the listeners came from, for the start-up log line.
    enum Origin: String {
        case bound, systemd
    }

    /// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
    static let firstPassedDescriptor: Int32 = 3

    static func open(
        api: ListenAddress, ops: ListenAddress, environment: [String: String]
    ) throws -> (api: Int32, ops: Int32, origin: (api: Origin, ops: Origin)) {
        let passed = try passedSockets(environment: environment)
        // Children must not believe the sockets are theirs (sd_listen_fds(3) with unset_environment).
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }

        let apiFD: Int32
        if let fd = passed.api {
            apiFD = fd
        } else {
            do {
                apiFD = try Socket.listen(on: api)
            } catch {
                if let fd = passed.ops { close(fd) }
                throw StartupError("cannot listen on \(api) (listen): \(error)\(hint(for: error, api))")
            }
        }
        if let fd = passed.ops {
            return (apiFD, fd, (passed.api == nil ? .bound : .systemd, .systemd))
        }
        do {
            return (apiFD, try Socket.listen(on: ops), (passed.api == nil ? .bound : .systemd, .bound))
        } catch {
            close(apiFD)
            throw StartupError("cannot listen on \(ops) (ops): \(error)\(hint(for: error, ops))")
        }
    }

    /// The sockets systemd passed to this process, by role; none when not socket-activated.
    static func passedSockets(environment: [String: String]) throws -> (api: Int32?, ops: Int32?) {
        guard let pidText = environment["LISTEN_PID"], let pid = Int32(pidText), pid == getpid(),
              let countText = environment["LISTEN_FDS"], let count = Int32(countText), count > 0 else {
            return (nil, nil)
        }
        let descriptors = Array(firstPassedDescriptor..<(firstPassedDescriptor + count))
        let names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        func closeAll() { for fd in descriptors { close(fd) } }

        var api: Int32?
        var ops: Int32?
        if names.contains("api") || names.contains("ops") {
            for (index, fd) in descriptors.enumerated() {
                let name = index < names.count ? names[index] : ""
                switch name {
                case "api" where api == nil: api = fd
                case "ops" where ops == nil: ops = fd
                default:
                    closeAll()
                    throw StartupError(
                        "systemd passed a socket named '\(name)' (descriptor \(fd)): refex takes one named api and one named ops (FileDescriptorName=)"
                    )
                }
            }
        } else if count == 1 {
            api = descriptors[0]
        } else {
            closeAll()
            throw StartupError("systemd passed \(count) sockets without the names api and ops: set FileDescriptorName= in each socket unit")
        }

        for (role, fd) in [("api", api), ("ops", ops)] {
            guard let fd else { continue }
            guard Socket.isListeningStream(fd), let address = Socket.localAddress(of: fd) else {
                closeAll()
                throw StartupError("the socket systemd passed as \(role) (descriptor \(fd)) is not a listening TCP socket (ListenStream=)")
            }
            if role == "ops" && !address.isLoopback {
                closeAll()
                throw StartupError("the socket systemd passed as ops listens on \(address): it must be a loopback address, as it serves metrics without TLS")
            }
        }
        return (api, ops)
    }

    /// What to do about the usual reasons a bind fails.
    private static func hint(for error: any Error, _ address: ListenAddress) -> String {
        guard let error = error as? SystemCallError else { return "" }
        switch error.errno {
        case EACCES where address.port < 1024:
            return " (ports below 1024 need socket activation, see systemd/refex.socket, or CAP_NET_BIND_SERVICE)"
        case EADDRINUSE:
            return " (another process holds the port: see ss -ltnp)"
        case EADDRNOTAVAIL:
            return " (no interface on this host has that address)"
        default:
            return ""
        }
    }
}
