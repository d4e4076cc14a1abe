/// A cryptographic operation failed; `details` holds what OpenSSL said.
package struct CryptoError: Error, Sendable, CustomStringConvertible {
    package var operation: String
    package var details: [String]

    package init(_ operation: String, details: [String] = OpenSSLErrorQueue.drain()) {
        self.operation = operation
        self.details = details
    }

    package var description: String {
        details.isEmpty ? "\(operation) failed" : "\(operation) failed: \(details.joined(separator: "; "))"
    }
}
