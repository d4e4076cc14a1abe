import Foundation
internal import COpenSSL
import Crypto

/// An X.509 certificate, parsed into the values refex decides on. Holds no C pointer.
package struct Certificate: Sendable, Hashable {
    /// The DER encoding.
    package var der: [UInt8]
    /// SHA-256 of the DER, lower-case hex without separators.
    package var sha256Fingerprint: String
    /// The subject as an RFC 2253 string, e.g. `CN=police,O=refex development`.
    package var subject: String
    /// The issuer as an RFC 2253 string.
    package var issuer: String
    /// The subject as parsed attributes, for exact comparison (the RFC 2253 text is for people).
    package var subjectName: DistinguishedName
    package var issuerName: DistinguishedName
    /// The serial number in upper-case hex.
    package var serialNumber: String
    package var notBefore: Date
    package var notAfter: Date

    package init(
        der: [UInt8], sha256Fingerprint: String, subject: String, issuer: String, serialNumber: String,
        notBefore: Date, notAfter: Date, subjectName: DistinguishedName? = nil, issuerName: DistinguishedName? = nil
    ) {
        self.der = der
        self.sha256Fingerprint = sha256Fingerprint
        self.subject = subject
        self.issuer = issuer
        self.subjectName = subjectName ?? (try? DistinguishedName(rfc4514: subject)) ?? DistinguishedName(rdns: [])
        self.issuerName = issuerName ?? (try? DistinguishedName(rfc4514: issuer)) ?? DistinguishedName(rdns: [])
        self.serialNumber = serialNumber
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// Reads every certificate from PEM text.
    package static func parsePEM(_ pem: [UInt8]) throws -> [Certificate] {
        try pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw TLSError("could not read PEM data")
            }
            defer { BIO_free(bio) }
            var certificates: [Certificate] = []
            while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(x509) }
                certificates.append(try Certificate(x509: x509))
            }
            // Reading stops with "no start line" at the end of the data: that is not an error.
            OpenSSLErrorQueue.clear()
            return certificates
        }
    }

    /// Reads every certificate from a PEM file.
    package static func load(pemFile path: String) throws -> [Certificate] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSError("cannot read certificate file \(path)", details: [])
        }
        let certificates = try parsePEM(Array(data))
        guard !certificates.isEmpty else { throw TLSError("no PEM certificate in \(path)", details: []) }
        return certificates
    }

    init(x509: OpaquePointer) throws {
        var derPointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(x509, &derPointer)
        guard length > 0, let derPointer else { throw TLSError("could not encode a certificate") }
        der = Array(UnsafeBufferPointer(start: derPointer, count: Int(length)))
        refex_OPENSSL_free(derPointer)
        sha256Fingerprint = SHA256.hash(der).hexString
        subject = Certificate.rfc2253(X509_get_subject_name(x509))
        issuer = Certificate.rfc2253(X509_get_issuer_name(x509))
        guard let subjectName = DistinguishedName(x509Name: X509_get_subject_name(x509)),
              let issuerName = DistinguishedName(x509Name: X509_get_issuer_name(x509)) else {
            throw TLSError("a certificate's subject or issuer name could not be read")
        }
        self.subjectName = subjectName
        self.issuerName = issuerName
        serialNumber = Certificate.serial(x509)
        notBefore = Certificate.date(X509_get0_notBefore(x509)) ?? .distantPast
        notAfter = Certificate.date(X509_get0_notAfter(x509)) ?? .distantPast
    }

    private static func rfc2253(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, refex_XN_FLAG_RFC2253) >= 0 else { return "" }
        var data: UnsafeMutablePointer<CChar>?
        let length = refex_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func serial(_ x509: OpaquePointer) -> String {
        guard let integer = X509_get_serialNumber(x509), let bignum = ASN1_INTEGER_to_BN(integer, nil) else { return "" }
        defer { BN_free(bignum) }
        guard let hex = BN_bn2hex(bignum) else { return "" }
        defer { refex_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    /// Decodes DER into an `X509` the caller frees.
    func makeX509() -> OpaquePointer? {
        der.withUnsafeBufferPointer { der in
            var cursor: UnsafePointer<UInt8>? = der.baseAddress
            return d2i_X509(nil, &cursor, der.count)
        }
    }

    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}

/// Whether a PEM private key matches a certificate; throws when the key cannot be read.
package func privateKey(_ keyPEM: [UInt8], matches certificate: Certificate) throws -> Bool {
    let key = try PrivateKey(pem: keyPEM)
    return try certificate.der.withUnsafeBufferPointer { der in
        var cursor: UnsafePointer<UInt8>? = der.baseAddress
        guard let x509 = d2i_X509(nil, &cursor, der.count) else { throw TLSError("could not decode a certificate") }
        defer { X509_free(x509) }
        let matches = X509_check_private_key(x509, key.pointer) == 1
        OpenSSLErrorQueue.clear()
        return matches
    }
}

/// An EVP_PKEY read from PEM; freed when released.
final class PrivateKey {
    let pointer: OpaquePointer

    init(pem: [UInt8]) throws {
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw TLSError("the private key is not a readable PEM key") }
        pointer = key
    }

    deinit { EVP_PKEY_free(pointer) }
}
