extension Configuration {
    /// The `delivery` section (see the README): refex's client certificate for push delivery and
    /// its timing. `Daemon` turns it, with the credentials loaded, into a `DeliveryConfiguration`.
    package struct DeliverySettings: Sendable, Hashable {
        package var clientCertificate: String
        /// `$CREDENTIALS_DIRECTORY/delivery-key` is used instead when present.
        package var clientKey: String
        package var connectTimeoutSeconds: Int64 = 5
        package var timeoutSeconds: Int64 = 30
        package var maxAgeSeconds: Int64 = 86_400
        package var backoffBaseMilliseconds: Int64 = 1000
        package var backoffMaxSeconds: Int64 = 300
        package var concurrency: Int64 = 2
        package var circuitFailures: Int64 = 5
        package var circuitOpenSeconds: Int64 = 30
        package var pollIntervalMilliseconds: Int64 = 250
    }
}

extension Configuration.DeliverySettings {
    /// The `delivery` section; nil when it names no client certificate or key (the schema has
    /// said so).
    init?(section: ConfigurationSection) {
        guard let certificate = section.file("clientCertificate"), let key = section.file("clientKey") else { return nil }
        self.init(clientCertificate: certificate, clientKey: key)
        func read(_ key: String, into value: inout Int64) {
            if let number = section.integer(key) { value = number }
        }
        read("connectTimeoutSeconds", into: &connectTimeoutSeconds)
        read("timeoutSeconds", into: &timeoutSeconds)
        read("maxAgeSeconds", into: &maxAgeSeconds)
        read("backoffBaseMilliseconds", into: &backoffBaseMilliseconds)
        read("backoffMaxSeconds", into: &backoffMaxSeconds)
        read("concurrency", into: &concurrency)
        read("circuitFailures", into: &circuitFailures)
        read("circuitOpenSeconds", into: &circuitOpenSeconds)
        read("pollIntervalMilliseconds", into: &pollIntervalMilliseconds)
    }
}
