import Crypto

/// A TLS context or certificate could not be set up; says which file and what OpenSSL said.
package struct TLSError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var details: [String]

    package init(_ message: String, details: [String] = OpenSSLErrorQueue.drain()) {
        self.message = message
        self.details = details
    }

    package var description: String {
        details.isEmpty ? message : "\(message) (\(details.joined(separator: "; ")))"
    }
}
