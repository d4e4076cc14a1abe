import Crypto

/// A TLS context or certificate could not be set up; says which file and what OpenSSL said.
package struct TLSError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var details: [String]
    /// The config setting at fault, e.g. `tls.crl`; nil when it is not known.
    package var setting: String?

    package init(_ message: String, details: [String] = OpenSSLErrorQueue.drain(), setting: String? = nil) {
        self.message = message
        self.details = details
        self.setting = setting
    }

    package var description: String {
        details.isEmpty ? message : "\(message) (\(details.joined(separator: "; ")))"
    }
}
