internal import COpenSSL
import Crypto

/// What a TLS client needs: the CAs to trust, and optionally its own certificate and key.
package struct TLSClientConfiguration: Sendable {
    package var trustedCAPEM: [UInt8]
    package var certificateChainPEM: [UInt8]?
    package var privateKeyPEM: [UInt8]?
    /// Offer TLS session resumption (off: every connection does a full handshake).
    package var resumeSessions: Bool

    package init(trustedCAPEM: [UInt8], certificateChainPEM: [UInt8]? = nil, privateKeyPEM: [UInt8]? = nil, resumeSessions: Bool = false) {
        self.trustedCAPEM = trustedCAPEM
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.resumeSessions = resumeSessions
    }
}

/// A client SSL_CTX that verifies the server's chain and host name.
package final class TLSClientContext: @unchecked Sendable {
    // Immutable after init; SSL_CTX is safe to share for creating connections.
    let context: OpaquePointer

    package init(_ configuration: TLSClientConfiguration) throws {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSError("could not create a TLS context") }
        // Configured before `self` is whole, so that a failure frees the context exactly once, here.
        do {
            guard refex_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
                throw TLSError("could not set the TLS versions")
            }
            if !configuration.resumeSessions {
                SSL_CTX_set_options(context, refex_SSL_OP_NO_TICKET)
                _ = refex_SSL_CTX_set_session_cache_mode(context, refex_SSL_SESS_CACHE_OFF)
            }
            guard let store = SSL_CTX_get_cert_store(context) else { throw TLSError("no certificate store") }
            let added = try withBIO(configuration.trustedCAPEM) { bio -> Int in
                var count = 0
                while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                    defer { X509_free(x509) }
                    if X509_STORE_add_cert(store, x509) == 1 { count += 1 }
                }
                OpenSSLErrorQueue.clear()
                return count
            }
            guard added > 0 else { throw TLSError("the trusted CA file holds no certificate", details: []) }
            if let chain = configuration.certificateChainPEM, let keyPEM = configuration.privateKeyPEM {
                try withBIO(chain) { bio in
                    guard let leaf = PEM_read_bio_X509(bio, nil, nil, nil) else { throw TLSError("the client certificate is not readable PEM") }
                    defer { X509_free(leaf) }
                    guard SSL_CTX_use_certificate(context, leaf) == 1 else { throw TLSError("the client certificate could not be used") }
                }
                let key = try PrivateKey(pem: keyPEM)
                guard SSL_CTX_use_PrivateKey(context, key.pointer) == 1, SSL_CTX_check_private_key(context) == 1 else {
                    throw TLSError("the client private key does not match its certificate")
                }
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
    }

    deinit { SSL_CTX_free(context) }
}
