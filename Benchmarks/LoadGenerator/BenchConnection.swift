import Foundation
import TLS

/// One blocking TCP socket with a TLS client session on it, for the probe request before a run;
/// closes the socket when released.
final class BenchConnection {
    let fd: Int32
    let tls: TLSConnection

    /// Connects and completes a full TLS handshake.
    init(address: ServerAddress, context: TLSClientContext, serverName: String, timeout: Double) throws(FailureEvent) {
        let fd: Int32
        do {
            fd = try address.connect(timeout: timeout)
        } catch {
            throw FailureEvent(.connect, "\(error)")
        }
        let tls: TLSConnection
        do {
            tls = try TLSConnection(client: context, fd: fd, serverName: serverName)
        } catch {
            close(fd)
            throw FailureEvent(.handshake, "\(error)")
        }
        // From here on deinit closes the socket.
        self.fd = fd
        self.tls = tls
        while true {
            switch tls.handshake() {
            case .done: return
            case .wantRead, .wantWrite: throw FailureEvent(.handshake, "the handshake timed out")
            case .closed: throw FailureEvent(.handshake, "the server closed the connection during the handshake")
            case .failed(let failure): throw FailureEvent(.handshake, "\(failure)")
            }
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws(FailureEvent) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { raw in tls.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            switch result {
            case .done(let count): offset += count
            case .wantRead, .wantWrite: throw FailureEvent(.timeout, "the request could not be sent within the timeout")
            case .closed: throw FailureEvent(.closed, "the connection closed while sending")
            case .failed(let failure): throw FailureEvent(.write, "\(failure)")
            }
        }
    }

    func receive(_ reader: ResponseReader) throws(FailureEvent) -> ResponseReader.Response {
        reader.reset()
        while true {
            switch tls.read(into: reader.readTarget) {
            case .done(let count):
                if count > 0, let response = try reader.consume(count) { return response }
            case .wantRead, .wantWrite: throw FailureEvent(.timeout, "no response within the timeout")
            case .closed: throw FailureEvent(.closed, "the connection closed before the whole response")
            case .failed(let failure): throw FailureEvent(.tls, "\(failure)")
            }
        }
    }
}
