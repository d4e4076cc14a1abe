import Foundation
import Store

extension Configuration {
    /// The SQLite store's two files (`store.path`, `store.keysPath`).
    package struct StoreFiles: Sendable, Hashable {
        package var path: String
        package var keysPath: String
    }

    /// The `tls` section: the listener's certificate, key, client CAs and CRL.
    package struct TLSFiles: Sendable, Hashable {
        package var certificate: String
        /// Read from `$CREDENTIALS_DIRECTORY/tls-key` instead when systemd passes that credential.
        package var privateKey: String
        package var clientCA: String
        package var crl: String?
    }
}

extension Configuration.TLSFiles {
    /// The `tls` section; nil when a required file is not named (the schema has said so).
    init?(section: ConfigurationSection?) {
        guard let section, let certificate = section.file("certificate"), let privateKey = section.file("privateKey"),
              let clientCA = section.file("clientCA") else { return nil }
        self.init(certificate: certificate, privateKey: privateKey, clientCA: clientCA, crl: section.file("crl"))
    }
}
