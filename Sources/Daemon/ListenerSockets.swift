import Foundation
import Server

/// The listening sockets: passed by systemd (socket activation) or bound here.
enum ListenerSockets {
    static func open(api: ListenAddress, ops: ListenAddress, environment: [String: String]) throws -> (api: Int32, ops: Int32) {
        let apiFD: Int32
        do {
            apiFD = try Socket.listen(on: api)
        } catch {
            throw StartupError("cannot listen on \(api) (listen): \(error)")
        }
        do {
            return (apiFD, try Socket.listen(on: ops))
        } catch {
            close(apiFD)
            throw StartupError("cannot listen on \(ops) (ops): \(error)")
        }
    }
}
