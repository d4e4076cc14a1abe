import Foundation
import TLS
internal import CLinux

/// The byte stream under HTTP: TLS over a socket, or the socket itself (the loopback ops listener).
protocol Transport: AnyObject {
    func handshake() -> TLSIOResult
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult
    func write(_ buffer: UnsafeRawBufferPointer) -> TLSIOResult
    /// Ends the session politely (TLS close_notify); the caller closes the socket.
    func shutdown()
    var peerCertificate: Certificate? { get }
    /// The chain verified in this handshake (client first, anchor last); nil when nothing was verified (resumed, or plain).
    var verifiedChain: [Certificate]? { get }
    /// The client's certificate and the intermediates it sent.
    var presentedChain: [Certificate] { get }
    var protocolVersion: String? { get }
}

final class TLSTransport: Transport {
    private let connection: TLSConnection
    private let fd: Int32
    private var sawFirstBytes = false

    init(context: TLSServerContext, fd: Int32) throws {
        connection = try TLSConnection(server: context, fd: fd)
        self.fd = fd
    }

    func handshake() -> TLSIOResult {
        if !sawFirstBytes {
            // A TLS client speaks first with a handshake record (0x16); a plain HTTP client with a
            // method name. Looked at before OpenSSL reads, so that plain HTTP can be answered in plain HTTP.
            var first: UInt8 = 0
            let count = retryingOnInterrupt { recv(fd, &first, 1, Int32(MSG_PEEK)) }
            if count == 0 { return .closed }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return .wantRead }
                return .failed(TLSFailure(reason: "io", detail: SystemCallError("recv").description))
            }
            sawFirstBytes = true
            if first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") {
                return .failed(TLSFailure(reason: "not_tls", detail: "plain HTTP sent to the TLS port"))
            }
        }
        return connection.handshake()
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult { connection.read(into: buffer) }
    func write(_ buffer: UnsafeRawBufferPointer) -> TLSIOResult { connection.write(buffer) }
    func shutdown() { connection.shutdown() }
    var peerCertificate: Certificate? { connection.peerCertificate }
    var verifiedChain: [Certificate]? { connection.verifiedChain }
    var presentedChain: [Certificate] { connection.presentedChain }
    var protocolVersion: String? { connection.protocolVersion }
}

final class PlainTransport: Transport {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    func handshake() -> TLSIOResult { .done(0) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult {
        let count = retryingOnInterrupt { Foundation.read(fd, buffer.baseAddress, buffer.count) }
        if count > 0 { return .done(count) }
        if count == 0 { return .closed }
        if errno == EAGAIN || errno == EWOULDBLOCK { return .wantRead }
        return .failed(TLSFailure(reason: "io", detail: SystemCallError("read").description))
    }

    func write(_ buffer: UnsafeRawBufferPointer) -> TLSIOResult {
        let count = retryingOnInterrupt { send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
        if count >= 0 { return .done(count) }
        if errno == EAGAIN || errno == EWOULDBLOCK { return .wantWrite }
        return .failed(TLSFailure(reason: "io", detail: SystemCallError("send").description))
    }

    func shutdown() {}
    var peerCertificate: Certificate? { nil }
    var verifiedChain: [Certificate]? { nil }
    var presentedChain: [Certificate] { [] }
    var protocolVersion: String? { nil }
}
