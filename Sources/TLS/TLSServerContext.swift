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
    /// Intermediates allowed between a client's certificate and its trust anchor, plus one.
    static let verifyDepth: Int32 = 4
}

/// What the verification callback needs from its context.
final class VerificationSettings: @unchecked Sendable {
    // Written once in the context's init before any handshake can read it.
    var crlNextUpdate: Date?
}

/// OpenSSL's chain verification plus refex's own rules, for every client handshake. Also caps the
/// session's lifetime (and so its tickets') at the earliest notAfter of the chain and the CRLs' next
/// update, so that no session outlives what verified it.
private let verifyClientCertificate: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { storeContext, argument in
    guard let storeContext else { return 0 }
    guard X509_verify_cert(storeContext) == 1 else { return 0 }
    if ChainPolicy.borrowedCAName(storeContext) != nil {
        X509_STORE_CTX_set_error(storeContext, X509_V_ERR_APPLICATION_VERIFICATION)
        return 0
    }
    if let argument, let ssl = X509_STORE_CTX_get_ex_data(storeContext, SSL_get_ex_data_X509_STORE_CTX_idx()),
       let session = SSL_get_session(OpaquePointer(ssl)) {
        let settings = Unmanaged<VerificationSettings>.fromOpaque(argument).takeUnretainedValue()
        var until = ChainPolicy.earliestNotAfter(storeContext) ?? .distantFuture
        if let next = settings.crlNextUpdate { until = min(until, next) }
        let left = max(1, min(until.timeIntervalSinceNow, 86_400 * 365))
        if Int(left) < Int(SSL_SESSION_get_timeout(session)) { _ = SSL_SESSION_set_timeout(session, Int(left)) }
    }
    return 1
}

/// Before each session ticket is made (after a full handshake, and again after a resumed one, when
/// the session would otherwise start a new lifetime): no ticket outlives the client's certificates or the CRL.
private let capTicketLifetime: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ssl, argument in
    guard let ssl, let argument, let session = SSL_get_session(ssl) else { return 1 }
    let settings = Unmanaged<VerificationSettings>.fromOpaque(argument).takeUnretainedValue()
    var until = settings.crlNextUpdate ?? .distantFuture
    if let leaf = SSL_get0_peer_certificate(ssl), let notAfter = Certificate.date(X509_get0_notAfter(leaf)) { until = min(until, notAfter) }
    if let sent = SSL_get_peer_cert_chain(ssl) {
        for index in 0..<refex_sk_X509_num(sent) {
            if let certificate = refex_sk_X509_value(sent, index), let notAfter = Certificate.date(X509_get0_notAfter(certificate)) {
                until = min(until, notAfter)
            }
        }
    }
    let left = max(1, min(until.timeIntervalSinceNow, 86_400 * 365))
    if Int(left) < Int(SSL_SESSION_get_timeout(session)) { _ = SSL_SESSION_set_timeout(session, Int(left)) }
    return 1
}

/// Checks on a verified chain that OpenSSL does not make.
enum ChainPolicy {
    /// A certificate in the chain that carries the subject name of a trusted client CA certificate
    /// without being that certificate: an impostor for anything that trusts names (described for the log).
    static func borrowedCAName(_ storeContext: OpaquePointer) -> String? {
        guard let chain = X509_STORE_CTX_get0_chain(storeContext) else { return nil }
        for index in 0..<refex_sk_X509_num(chain) {
            guard let certificate = refex_sk_X509_value(chain, index), let name = X509_get_subject_name(certificate) else { continue }
            guard let namesakes = X509_STORE_CTX_get1_certs(storeContext, name) else { continue }
            defer { refex_sk_X509_pop_free(namesakes) }
            let count = refex_sk_X509_num(namesakes)
            guard count > 0 else { continue }
            let isTrusted = (0..<count).contains { X509_cmp(refex_sk_X509_value(namesakes, $0), certificate) == 0 }
            if !isTrusted {
                let subject = DistinguishedName(x509Name: name)?.description ?? "?"
                return "a certificate at depth \(index) is named \(subject) like a client CA certificate but is not it"
            }
        }
        OpenSSLErrorQueue.clear()
        return nil
    }

    static func earliestNotAfter(_ storeContext: OpaquePointer) -> Date? {
        guard let chain = X509_STORE_CTX_get0_chain(storeContext) else { return nil }
        var earliest: Date?
        for index in 0..<refex_sk_X509_num(chain) {
            guard let certificate = refex_sk_X509_value(chain, index), let notAfter = Certificate.date(X509_get0_notAfter(certificate)) else {
                continue
            }
            earliest = min(earliest ?? notAfter, notAfter)
        }
        return earliest
    }

    static func chain(of storeContext: OpaquePointer) -> [Certificate] {
        certificates(in: X509_STORE_CTX_get0_chain(storeContext))
    }

    /// Every certificate of a stack, in order; empty if any cannot be read, so that a chain is never
    /// shortened (a position in it says who issued what).
    static func certificates(in stack: OpaquePointer?) -> [Certificate] {
        guard let stack else { return [] }
        var certificates: [Certificate] = []
        for index in 0..<refex_sk_X509_num(stack) {
            guard let x509 = refex_sk_X509_value(stack, index), let certificate = try? Certificate(x509: x509) else { return [] }
            certificates.append(certificate)
        }
        return certificates
    }
}

/// A verification error code as a failure with a stable reason label.
func verificationFailure(_ code: Int) -> TLSFailure {
    let text = X509_verify_cert_error_string(code).map { String(cString: $0) } ?? "verify error \(code)"
    let reason: String
    switch Int32(code) {
    case X509_V_ERR_CERT_REVOKED: reason = "revoked"
    case X509_V_ERR_CERT_HAS_EXPIRED: reason = "expired"
    case X509_V_ERR_CRL_HAS_EXPIRED: reason = "crl_expired"
    case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_NOT_YET_VALID: reason = "crl_unavailable"
    case X509_V_ERR_CERT_NOT_YET_VALID: reason = "not_yet_valid"
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
         X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        reason = "unknown_ca"
    case X509_V_ERR_APPLICATION_VERIFICATION: reason = "borrowed_ca_name"
    default: reason = "bad_certificate"
    }
    return TLSFailure(reason: reason, detail: text)
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
    /// The certificates of the client CA bundle (trust anchors and allowed intermediates).
    package let clientCAs: [Certificate]
    // Read by the certificate verification callback through its argument; lives as long as the context.
    private let verificationSettings: VerificationSettings

    package init(_ configuration: TLSServerConfiguration) throws {
        OpenSSLErrorQueue.clear()
        guard let leaf = try Certificate.parsePEM(configuration.certificateChainPEM).first else {
            throw TLSError("the server certificate file holds no certificate", details: [])
        }
        let clientCAs = try configuration.clientCAPEM.map { try Certificate.parsePEM($0) } ?? []
        if let clientCA = configuration.clientCAPEM {
            let problems = try TLSServerContext.anchorProblems(clientCAPEM: clientCA)
            if !problems.isEmpty { throw TLSError(problems.joined(separator: "; "), details: [], setting: "tls.clientCA") }
        }
        if let clientCA = configuration.clientCAPEM, let crl = configuration.crlPEM {
            let problems = try TLSServerContext.revocationProblems(clientCAPEM: clientCA, crlPEM: crl, now: Date())
            if !problems.isEmpty { throw TLSError(problems.joined(separator: "; "), details: [], setting: "tls.crl") }
        }
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("could not create a TLS context") }
        // Configured before `self` is whole, so that a failure frees the context exactly once, here.
        let crlNextUpdate: Date?
        let settings = VerificationSettings()
        do {
            crlNextUpdate = try TLSServerContext.configure(context, configuration, settings)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        settings.crlNextUpdate = crlNextUpdate
        self.context = context
        self.crlNextUpdate = crlNextUpdate
        self.clientCAs = clientCAs
        verificationSettings = settings
        certificate = leaf
        requiresClientCertificate = configuration.clientCAPEM != nil
    }

    deinit { SSL_CTX_free(context) }

    /// Verifies a client's chain now under this context, as a handshake would: it chains to a client
    /// CA, every certificate is within its validity period, no loaded CRL revokes any of them, and no
    /// certificate borrows the name of a client CA it is not. For sessions resumed without a new
    /// verification, and for connections verified under an earlier context (before a reload).
    ///
    /// - Parameter presented: the client's certificate first, then the intermediates it sent.
    /// - Returns: the verified chain, the client's certificate first and the trust anchor last.
    package func verifyClientChain(_ presented: [Certificate], at time: Date = Date()) -> Result<[Certificate], TLSFailure> {
        guard requiresClientCertificate, let store = SSL_CTX_get_cert_store(context), let leafCertificate = presented.first else {
            return .failure(TLSFailure(reason: "no_certificate", detail: "no client certificate"))
        }
        defer { OpenSSLErrorQueue.clear() }
        guard let leaf = leafCertificate.makeX509() else { return .failure(TLSFailure(reason: "bad_certificate", detail: "undecodable certificate")) }
        defer { X509_free(leaf) }
        guard let untrusted = refex_sk_X509_new_null() else { return .failure(TLSFailure(reason: "other", detail: "out of memory")) }
        defer { refex_sk_X509_pop_free(untrusted) }
        for certificate in presented.dropFirst() {
            guard let x509 = certificate.makeX509() else { continue }
            if refex_sk_X509_push(untrusted, x509) == 0 { X509_free(x509) }
        }
        guard let verification = X509_STORE_CTX_new() else { return .failure(TLSFailure(reason: "other", detail: "out of memory")) }
        defer { X509_STORE_CTX_free(verification) }
        guard X509_STORE_CTX_init(verification, store, leaf, untrusted) == 1 else {
            return .failure(TLSFailure(reason: "other", detail: "could not set up verification"))
        }
        _ = X509_STORE_CTX_set_default(verification, "ssl_client")
        if let parameters = X509_STORE_CTX_get0_param(verification) {
            X509_VERIFY_PARAM_set_depth(parameters, TLSPolicy.verifyDepth)
            X509_VERIFY_PARAM_set_time(parameters, time_t(time.timeIntervalSince1970))
        }
        guard X509_verify_cert(verification) == 1 else {
            return .failure(verificationFailure(Int(X509_STORE_CTX_get_error(verification))))
        }
        if let borrowed = ChainPolicy.borrowedCAName(verification) {
            return .failure(TLSFailure(reason: "borrowed_ca_name", detail: borrowed))
        }
        let chain = ChainPolicy.chain(of: verification)
        guard !chain.isEmpty else { return .failure(TLSFailure(reason: "bad_certificate", detail: "a certificate's names could not be read")) }
        return .success(chain)
    }

    /// Problems with a CRL bundle against a client CA bundle that would refuse partners who should be
    /// accepted, or accept ones who should not: each CRL must be signed by a client CA certificate with
    /// its issuer's name and must already be in force (its thisUpdate not in the future), and, since
    /// revocation is checked for every certificate of a chain, every client CA certificate needs a CRL.
    package static func revocationProblems(clientCAPEM: [UInt8], crlPEM: [UInt8], now: Date) throws -> [String] {
        let read = try readX509s(clientCAPEM)
        defer { read.forEach { X509_free($0) } }
        // A bundle may hold the same certificate twice (concatenated files): it is one CA, with one CRL.
        var cas: [OpaquePointer] = []
        for ca in read where !cas.contains(where: { X509_cmp($0, ca) == 0 }) { cas.append(ca) }
        let crls = try readCRLs(crlPEM)
        defer { crls.forEach { X509_CRL_free($0) } }
        guard !crls.isEmpty else { return ["the CRL file holds no CRL"] }
        var problems: [String] = []
        var covered = Set<Int>()
        for crl in crls {
            let issuerName = X509_CRL_get_issuer(crl)
            let issuer = DistinguishedName(x509Name: issuerName)?.description ?? "?"
            let namesakes = cas.indices.filter { X509_NAME_cmp(X509_get_subject_name(cas[$0]), issuerName) == 0 }
            let signer = namesakes.first { X509_CRL_verify(crl, X509_get0_pubkey(cas[$0])) == 1 }
            OpenSSLErrorQueue.clear()
            if let signer {
                covered.insert(signer)
                // OpenSSL refuses a CRL from a CA whose key usage leaves out cRLSign: everyone would be.
                if X509_get_key_usage(cas[signer]) & UInt32(KU_CRL_SIGN) == 0 {
                    problems.append("the tls.clientCA certificate \(issuer) may not sign CRLs (its keyUsage lacks cRLSign): its CRL would be refused")
                }
            } else if namesakes.isEmpty {
                problems.append(
                    "the CRL issued by \(issuer) is from no tls.clientCA certificate: its signature cannot be checked (an intermediate CA whose certificates partners present needs its certificate in tls.clientCA as well as its CRL here)"
                )
            } else {
                problems.append("the CRL issued by \(issuer) is not signed by that tls.clientCA certificate (its signature does not verify)")
            }
            if namesakes.count > 1, !keyIdentifierSingles(crl, out: namesakes.map { cas[$0] }) {
                problems.append(
                    "the CRL issued by \(issuer) does not say by its authorityKeyIdentifier which of the \(namesakes.count) tls.clientCA certificates of that name issued it: OpenSSL would check one CA's certificates against the other's CRL and refuse them (CRL signature failure); have each CA put its key identifier in its CRLs, or keep one CA of that name"
                )
            }
            // Every CA certificate of a chain is checked against its issuer's CRL, a root against its own.
            if let signer, onlyContainsUserCertificates(crl),
               let issued = cas.indices.first(where: { X509_check_issued(cas[signer], cas[$0]) == X509_V_OK }) {
                let subject = DistinguishedName(x509Name: X509_get_subject_name(cas[issued]))?.description ?? "?"
                problems.append(
                    "the CRL issued by \(issuer) covers end-entity certificates only (onlyContainsUserCerts), but the CA certificate \(subject), which that CA issued, is checked against it: every certificate under it would be refused; give that CA's complete CRL"
                )
            }
            // A CA that issued no other CA certificate of the bundle issues the partners' certificates
            // (an intermediate partners send must itself be in the bundle when CRLs are checked).
            if let signer, onlyContainsCACertificates(crl),
               !cas.indices.contains(where: { $0 != signer && X509_check_issued(cas[signer], cas[$0]) == X509_V_OK }) {
                problems.append(
                    "the CRL issued by \(issuer) covers CA certificates only (onlyContainsCACerts), but that CA issues no CA certificate of tls.clientCA, so the certificates it issues are partners' and could not be checked: every one would be refused; give that CA's complete CRL"
                )
            }
            if let unusable = unusableCRL(crl) {
                problems.append("the CRL issued by \(issuer) \(unusable)")
            }
            if let thisUpdate = Certificate.date(X509_CRL_get0_lastUpdate(crl)), thisUpdate > now {
                problems.append(
                    "the CRL issued by \(issuer) is not in force until \(thisUpdate) (its thisUpdate is in the future): every certificate from that CA would be refused until then"
                )
            }
        }
        for index in cas.indices where !covered.contains(index) {
            let subject = DistinguishedName(x509Name: X509_get_subject_name(cas[index]))?.description ?? "?"
            problems.append(
                "the tls.clientCA certificate \(subject) has no CRL: revocation is checked at every level of a chain, so every client CA needs its current CRL in tls.crl"
            )
        }
        return problems
    }

    /// Client CA certificates that chain to no self-signed certificate of the bundle: OpenSSL trusts
    /// a chain only up to a root, so every client certificate issued under one would be refused
    /// (`unknown_ca`). Validity periods are not judged here.
    package static func anchorProblems(clientCAPEM: [UInt8]) throws -> [String] {
        let cas = try readX509s(clientCAPEM)
        defer { cas.forEach { X509_free($0) } }
        defer { OpenSSLErrorQueue.clear() }
        guard let store = X509_STORE_new() else { throw TLSError("out of memory") }
        defer { X509_STORE_free(store) }
        for ca in cas { _ = X509_STORE_add_cert(store, ca) }
        var problems: [String] = []
        for ca in cas {
            guard let verification = X509_STORE_CTX_new() else { throw TLSError("out of memory") }
            defer { X509_STORE_CTX_free(verification) }
            guard X509_STORE_CTX_init(verification, store, ca, nil) == 1 else { throw TLSError("could not set up verification") }
            X509_STORE_CTX_set_flags(verification, UInt(X509_V_FLAG_NO_CHECK_TIME))
            if X509_verify_cert(verification) != 1 {
                let code = X509_STORE_CTX_get_error(verification)
                if code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT || code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY {
                    let subject = DistinguishedName(x509Name: X509_get_subject_name(ca))?.description ?? "?"
                    let issuer = DistinguishedName(x509Name: X509_get_issuer_name(ca))?.description ?? "?"
                    problems.append(
                        "the certificate \(subject) is not anchored: its issuer \(issuer) (up to a self-signed root) is not in tls.clientCA, so every client certificate under it would be refused"
                    )
                }
            }
        }
        return problems
    }

    /// Whether a CRL's authority key identifier matches exactly one of the CA certificates that share
    /// its issuer's name, as OpenSSL needs to choose the CRL for a certificate (crl_akid_check): a CRL
    /// without one, or CAs without subject key identifiers, match them all.
    static func keyIdentifierSingles(_ crl: OpaquePointer, out namesakes: [OpaquePointer]) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard let raw = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, nil, nil) else { return false }
        let authority = raw.assumingMemoryBound(to: AUTHORITY_KEYID.self)
        defer { AUTHORITY_KEYID_free(authority) }
        guard let keyID = authority.pointee.keyid else { return false }
        var matches = 0
        for ca in namesakes {
            guard let subjectKeyID = X509_get0_subject_key_id(ca) else { return false }
            if ASN1_OCTET_STRING_cmp(subjectKeyID, keyID) == 0 { matches += 1 }
        }
        return matches == 1
    }

    /// Whether a CRL's issuingDistributionPoint limits it to end-entity certificates: OpenSSL does not
    /// use it for a CA certificate (RFC 5280 §5.2.5).
    static func onlyContainsUserCertificates(_ crl: OpaquePointer) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard let raw = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, nil, nil) else { return false }
        let point = raw.assumingMemoryBound(to: ISSUING_DIST_POINT.self)
        defer { ISSUING_DIST_POINT_free(point) }
        return point.pointee.onlyuser > 0
    }

    /// Whether a CRL's issuingDistributionPoint limits it to CA certificates (an ARL): OpenSSL does
    /// not use it for an end-entity certificate.
    static func onlyContainsCACertificates(_ crl: OpaquePointer) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard let raw = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, nil, nil) else { return false }
        let point = raw.assumingMemoryBound(to: ISSUING_DIST_POINT.self)
        defer { ISSUING_DIST_POINT_free(point) }
        return point.pointee.onlyCA > 0
    }

    /// Why a CRL cannot serve as its CA's complete CRL, or nil. OpenSSL refuses every certificate of
    /// a CA whose CRL has a critical extension it does not process, and passes over one that needs
    /// extended CRL support (indirect, by reason, attribute certificates only); a delta CRL it would
    /// take as the complete list, so that what the base CRL revokes would pass (RFC 5280 §5.2.4).
    static func unusableCRL(_ crl: OpaquePointer) -> String? {
        defer { OpenSSLErrorQueue.clear() }
        for index in 0..<X509_CRL_get_ext_count(crl) {
            guard let extensionEntry = X509_CRL_get_ext(crl, index) else { continue }
            let nid = OBJ_obj2nid(X509_EXTENSION_get_object(extensionEntry))
            if nid == NID_delta_crl {
                return "is a delta CRL: refex applies complete CRLs only and would take the delta's short list for the whole; give that CA's complete CRL"
            }
            // The critical extensions OpenSSL processes in a CRL (crypto/x509/x_crl.c).
            if X509_EXTENSION_get_critical(extensionEntry) != 0, nid != NID_issuing_distribution_point, nid != NID_authority_key_identifier {
                let oid = DistinguishedName.dottedOID(X509_EXTENSION_get_object(extensionEntry)) ?? "?"
                return "has a critical extension (\(oid)) that refex cannot process: every certificate from that CA would be refused"
            }
        }
        guard let raw = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, nil, nil) else { return nil }
        let point = raw.assumingMemoryBound(to: ISSUING_DIST_POINT.self)
        defer { ISSUING_DIST_POINT_free(point) }
        if point.pointee.indirectCRL > 0 || point.pointee.onlysomereasons != nil || point.pointee.onlyattr > 0 {
            return "is an indirect, reason-partitioned or attribute-certificate CRL (see its issuingDistributionPoint): refex needs the CA's complete CRL"
        }
        return nil
    }

    /// Returns the earliest next update of the loaded CRLs.
    private static func configure(
        _ context: OpaquePointer, _ configuration: TLSServerConfiguration, _ settings: VerificationSettings
    ) throws -> Date? {
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
        let caCertificates = try readX509s(clientCA)
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
            let crls = try readCRLs(crlPEM)
            defer { crls.forEach { X509_CRL_free($0) } }
            guard !crls.isEmpty else { throw TLSError("the CRL file holds no CRL", details: []) }
            for crl in crls {
                guard X509_STORE_add_crl(store, crl) == 1 else { throw TLSError("a CRL could not be added") }
                if let next = Certificate.date(X509_CRL_get0_nextUpdate(crl)) {
                    nextUpdate = min(nextUpdate ?? next, next)
                }
            }
            // Every certificate of the chain, not just the client's: a revoked intermediate revokes what it issued.
            _ = X509_STORE_set_flags(store, refex_X509_V_FLAG_CRL_CHECK_BOTH)
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        SSL_CTX_set_verify_depth(context, TLSPolicy.verifyDepth)
        SSL_CTX_set_cert_verify_callback(context, verifyClientCertificate, Unmanaged.passUnretained(settings).toOpaque())
        guard SSL_CTX_set_session_ticket_cb(context, capTicketLifetime, nil, Unmanaged.passUnretained(settings).toOpaque()) == 1 else {
            throw TLSError("could not set the session ticket callback")
        }
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

/// Every certificate in a PEM bundle, owned by the caller (`X509_free` each).
func readX509s(_ pem: [UInt8]) throws -> [OpaquePointer] {
    try withBIO(pem) { bio in
        var list: [OpaquePointer] = []
        while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) { list.append(x509) }
        OpenSSLErrorQueue.clear()
        return list
    }
}

/// Every CRL in a PEM bundle, owned by the caller (`X509_CRL_free` each).
func readCRLs(_ pem: [UInt8]) throws -> [OpaquePointer] {
    try withBIO(pem) { bio in
        var list: [OpaquePointer] = []
        while let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) { list.append(crl) }
        OpenSSLErrorQueue.clear()
        return list
    }
}

func withBIO<Result>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> Result) throws -> Result {
    try bytes.withUnsafeBytes { raw in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw TLSError("out of memory") }
        defer { BIO_free(bio) }
        return try body(bio)
    }
}
