import Foundation
internal import COpenSSL
import Crypto

/// The result of a non-blocking TLS step.
package enum TLSIOResult: Sendable, Equatable {
    /// The step finished; for reads and writes, with the byte count.
    case done(Int)
    /// Call again when the socket is readable.
    case wantRead
    /// Call again when the socket is writable.
    case wantWrite
    /// The peer closed the connection.
    case closed
    case failed(TLSFailure)
}

/// Why a handshake or record failed, as a short stable label (for metrics) and a description (for logs).
package struct TLSFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// One of: `no_certificate`, `unknown_ca`, `revoked`, `expired`, `not_yet_valid`, `bad_certificate`,
    /// `protocol_version`, `no_shared_cipher`, `not_tls`, `eof`, `io`, `other`.
    package var reason: String
    package var detail: String

    package init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    package var description: String { "\(reason): \(detail)" }
}

/// One TLS session over a socket the caller owns. Not thread-safe: one connection belongs to one
/// event loop (or one thread) for its whole life.
package final class TLSConnection {
    private let ssl: OpaquePointer
    // The context must outlive the SSL object created from it.
    private let retainedContext: AnyObject

    /// A server-side session over `fd`.
    package init(server context: TLSServerContext, fd: Int32) throws {
        guard let ssl = SSL_new(context.context) else { throw TLSError("could not create a TLS session") }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            throw TLSError("could not attach the TLS session to its socket")
        }
        SSL_set_accept_state(ssl)
        // Assigned last: once `self` is whole, deinit frees the session.
        self.ssl = ssl
        retainedContext = context
    }

    /// A client-side session over `fd`, verifying that the server's certificate is for `serverName`.
    package init(client context: TLSClientContext, fd: Int32, serverName: String) throws {
        guard let ssl = SSL_new(context.context) else { throw TLSError("could not create a TLS session") }
        let isAddress = isIPAddress(serverName)
        let ok = SSL_set_fd(ssl, fd) == 1
            && (isAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 : SSL_set1_host(ssl, serverName) == 1)
            && (isAddress || refex_SSL_set_tlsext_host_name(ssl, serverName) == 1)
        guard ok else {
            SSL_free(ssl)
            throw TLSError("could not set up a TLS client session for \(serverName)")
        }
        SSL_set_connect_state(ssl)
        self.ssl = ssl
        retainedContext = context
    }

    deinit { SSL_free(ssl) }

    /// Drives the handshake; `.done(0)` once it is complete.
    package func handshake() -> TLSIOResult {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done(0) }
        return classify(result)
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult {
        ERR_clear_error()
        var count = 0
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 { return .done(count) }
        return classify(0)
    }

    package func write(_ buffer: UnsafeRawBufferPointer) -> TLSIOResult {
        guard buffer.count > 0 else { return .done(0) }
        ERR_clear_error()
        var count = 0
        if SSL_write_ex(ssl, buffer.baseAddress, buffer.count, &count) == 1 { return .done(count) }
        return classify(0)
    }

    /// Sends close_notify without waiting for the peer's.
    package func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The verified peer certificate, after the handshake.
    package var peerCertificate: Certificate? {
        guard let x509 = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(x509) }
        return try? Certificate(x509: x509)
    }

    /// The chain OpenSSL verified in this handshake, the client's certificate first and the trust
    /// anchor last; nil when the session was resumed (no certificate was verified this time).
    package var verifiedChain: [Certificate]? {
        guard let chain = SSL_get0_verified_chain(ssl), refex_sk_X509_num(chain) > 0 else { return nil }
        return ChainPolicy.certificates(in: chain)
    }

    /// The peer's certificate followed by the intermediates it sent (kept in the session, so also
    /// known after resumption).
    package var presentedChain: [Certificate] {
        guard let leaf = peerCertificate else { return [] }
        let sent = ChainPolicy.certificates(in: SSL_get_peer_cert_chain(ssl))
        // A server's view of the peer chain leaves the peer's own certificate out; a client's includes it.
        return [leaf] + sent.filter { $0.der != leaf.der }
    }

    /// `TLSv1.3` or `TLSv1.2`.
    package var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    package var cipher: String {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return "" }
        return String(cString: name)
    }

    /// Seconds the session (and any ticket for it) may be resumed for, from its start.
    package var sessionLifetime: Int? {
        guard let session = SSL_get_session(ssl) else { return nil }
        return Int(SSL_SESSION_get_timeout(session))
    }

    private func classify(_ result: Int32) -> TLSIOResult {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let details = OpenSSLErrorQueue.drain()
            if details.isEmpty { return errno == 0 ? .closed : .failed(TLSFailure(reason: "io", detail: "socket error \(errno)")) }
            return .failed(TLSFailure(reason: "io", detail: details.joined(separator: "; ")))
        default:
            return .failed(failure())
        }
    }

    private func failure() -> TLSFailure {
        let verify = SSL_get_verify_result(ssl)
        let errorCode = ERR_peek_error()
        let details = OpenSSLErrorQueue.drain().joined(separator: "; ")
        if verify != X509_V_OK { return verificationFailure(verify) }
        let reason: String
        switch ERR_GET_REASON(errorCode) {
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: reason = "no_certificate"
        case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_VERSION_TOO_LOW, SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
            reason = "protocol_version"
        case SSL_R_NO_SHARED_CIPHER, SSL_R_NO_SHARED_GROUPS, SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: reason = "no_shared_cipher"
        case SSL_R_HTTP_REQUEST, SSL_R_WRONG_VERSION_NUMBER: reason = "not_tls"
        case SSL_R_UNEXPECTED_EOF_WHILE_READING: reason = "eof"
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
             SSL_R_CERTIFICATE_VERIFY_FAILED:
            reason = "bad_certificate"
        default: reason = "other"
        }
        return TLSFailure(reason: reason, detail: details.isEmpty ? "TLS error" : details)
    }
}

/// Whether `text` is an IPv4 or IPv6 address literal (verified against the certificate's IP SANs, not its DNS names).
func isIPAddress(_ text: String) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 16)
    return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
}
