import Foundation
internal import COpenSSL
import Crypto

/// What a TLS server needs: its certificate chain and key, the CA bundle client certificates
/// must chain to, and optionally a CRL.
package struct TLSServerConfiguration: Sendable {
    /// PEM: the server certificate first, then any intermediates.
    package var certificateChainPEM: [UInt8]
    package var privateKeyPEM: [UInt8]
    /// PEM bundle of CAs that client certificates must chain to; nil serves without client certificates
    /// (only for the development sink and tests, never for refex's partner listener).
    package var clientCAPEM: [UInt8]?
    /// PEM CRLs issued by the client CAs; when set, every client certificate is checked against them.
    package var crlPEM: [UInt8]?

    package init(certificateChainPEM: [UInt8], privateKeyPEM: [UInt8], clientCAPEM: [UInt8]?, crlPEM: [UInt8]? = nil) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.clientCAPEM = clientCAPEM
        self.crlPEM = crlPEM
    }
}

/// TLS 1.2 and 1.3 with forward-secret AEAD suites only.
enum TLSPolicy {
    /// TLS 1.2 suites: ECDHE key exchange, AEAD ciphers. TLS 1.3's suites are all AEAD and forward secret.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
    static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    static let groups = "X25519:P-256:P-384"
}

/// A server SSL_CTX, immutable once built and shared by every connection made from it.
///
/// Reloading makes a new context; connections keep the one they started with.
package final class TLSServerContext: @unchecked Sendable {
    // SSL_CTX is thread-safe for creating connections once configured; nothing mutates it after init.
    let context: OpaquePointer
    package let certificate: Certificate
    package let requiresClientCertificate: Bool
    /// When the earliest loaded CRL says it is next updated; past it, OpenSSL refuses every
    /// client certificate (the CRL has expired). nil without a CRL.
    package let crlNextUpdate: Date?

    package init(_ configuration: TLSServerConfiguration) throws {
        OpenSSLErrorQueue.clear()
        guard let leaf = try Certificate.parsePEM(configuration.certificateChainPEM).first else {
            throw TLSError("the server certificate file holds no certificate", details: [])
        }
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("could not create a TLS context") }
        // Configured before `self` is whole, so that a failure frees the context exactly once, here.
        let crlNextUpdate: Date?
        do {
            crlNextUpdate = try TLSServerContext.configure(context, configuration)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
        self.crlNextUpdate = crlNextUpdate
        certificate = leaf
        requiresClientCertificate = configuration.clientCAPEM != nil
    }

    deinit { SSL_CTX_free(context) }

    /// Whether `certificate` passes this context's client verification now: it chains to a
    /// client CA, is within its validity period, and no loaded CRL revokes it. For connections
    /// whose handshake was verified under an earlier context, before a reload.
    package func acceptsClientCertificate(_ certificate: Certificate) -> Bool {
        guard requiresClientCertificate, let store = SSL_CTX_get_cert_store(context) else { return false }
        defer { OpenSSLErrorQueue.clear() }
        return certificate.der.withUnsafeBufferPointer { der -> Bool in
            var cursor: UnsafePointer<UInt8>? = der.baseAddress
            guard let x509 = d2i_X509(nil, &cursor, der.count) else { return false }
            defer { X509_free(x509) }
            guard let verification = X509_STORE_CTX_new() else { return false }
            defer { X509_STORE_CTX_free(verification) }
            guard X509_STORE_CTX_init(verification, store, x509, nil) == 1 else { return false }
            _ = X509_STORE_CTX_set_purpose(verification, X509_PURPOSE_SSL_CLIENT)
            return X509_verify_cert(verification) == 1
        }
    }

    /// Returns the earliest next update of the loaded CRLs.
    private static func configure(_ context: OpaquePointer, _ configuration: TLSServerConfiguration) throws -> Date? {
        guard refex_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
              refex_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) == 1 else {
            throw TLSError("could not set the TLS versions")
        }
        SSL_CTX_set_options(
            context,
            refex_SSL_OP_NO_RENEGOTIATION | refex_SSL_OP_CIPHER_SERVER_PREFERENCE | refex_SSL_OP_NO_COMPRESSION
                | refex_SSL_OP_IGNORE_UNEXPECTED_EOF
        )
        // NO_AUTO_CHAIN: the chain sent is the one in the certificate file; without it OpenSSL rebuilds
        // and verifies refex's own chain against the client CA store on every handshake.
        _ = refex_SSL_CTX_set_mode(
            context, refex_SSL_MODE_ENABLE_PARTIAL_WRITE | refex_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | refex_SSL_MODE_NO_AUTO_CHAIN
        )
        // Read whole TLS records ahead: one read(2) per request instead of two.
        refex_SSL_CTX_set_read_ahead(context, 1)
        guard SSL_CTX_set_cipher_list(context, TLSPolicy.tls12Ciphers) == 1,
              SSL_CTX_set_ciphersuites(context, TLSPolicy.tls13Suites) == 1,
              refex_SSL_CTX_set1_groups_list(context, TLSPolicy.groups) == 1 else {
            throw TLSError("could not set the cipher policy")
        }
        // Without a session id context, a client that resumes a session fails the handshake.
        let sessionContext = Array("refex".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))

        try useCertificateChain(context, configuration.certificateChainPEM)
        let key = try PrivateKey(pem: configuration.privateKeyPEM)
        guard SSL_CTX_use_PrivateKey(context, key.pointer) == 1 else {
            throw TLSError("the server private key could not be used")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError("the server private key does not match the server certificate")
        }

        guard let clientCA = configuration.clientCAPEM else { return nil }
        let caCertificates = try withBIO(clientCA) { bio -> [OpaquePointer] in
            var list: [OpaquePointer] = []
            while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) { list.append(x509) }
            OpenSSLErrorQueue.clear()
            return list
        }
        defer { caCertificates.forEach { X509_free($0) } }
        guard !caCertificates.isEmpty else { throw TLSError("the client CA file holds no certificate", details: []) }
        guard let store = SSL_CTX_get_cert_store(context) else { throw TLSError("no certificate store") }
        for ca in caCertificates {
            guard X509_STORE_add_cert(store, ca) == 1 else { throw TLSError("a client CA certificate could not be added") }
            // Tell clients which CAs are acceptable, so that they choose the right certificate.
            _ = SSL_CTX_add_client_CA(context, ca)
        }
        var nextUpdate: Date?
        if let crlPEM = configuration.crlPEM {
            let crls = try withBIO(crlPEM) { bio -> [OpaquePointer] in
                var list: [OpaquePointer] = []
                while let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) { list.append(crl) }
                OpenSSLErrorQueue.clear()
                return list
            }
            defer { crls.forEach { X509_CRL_free($0) } }
            guard !crls.isEmpty else { throw TLSError("the CRL file holds no CRL", details: []) }
            for crl in crls {
                guard X509_STORE_add_crl(store, crl) == 1 else { throw TLSError("a CRL could not be added") }
                if let next = Certificate.date(X509_CRL_get0_nextUpdate(crl)) {
                    nextUpdate = min(nextUpdate ?? next, next)
                }
            }
            _ = X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK))
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        SSL_CTX_set_verify_depth(context, 4)
        return nextUpdate
    }

    private static func useCertificateChain(_ context: OpaquePointer, _ pem: [UInt8]) throws {
        try withBIO(pem) { bio in
            guard let leaf = PEM_read_bio_X509(bio, nil, nil, nil) else {
                throw TLSError("the server certificate is not readable PEM")
            }
            defer { X509_free(leaf) }
            guard SSL_CTX_use_certificate(context, leaf) == 1 else { throw TLSError("the server certificate could not be used") }
            while let intermediate = PEM_read_bio_X509(bio, nil, nil, nil) {
                // add_extra_chain_cert takes ownership of the certificate.
                guard SSL_CTX_ctrl(context, SSL_CTRL_EXTRA_CHAIN_CERT, 0, UnsafeMutableRawPointer(intermediate)) == 1 else {
                    X509_free(intermediate)
                    throw TLSError("an intermediate certificate could not be added")
                }
            }
            OpenSSLErrorQueue.clear()
        }
    }
}

func withBIO<Result>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> Result) throws -> Result {
    try bytes.withUnsafeBytes { raw in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw TLSError("out of memory") }
        defer { BIO_free(bio) }
        return try body(bio)
    }
}
