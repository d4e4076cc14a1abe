extension Configuration {
    /// The `log` section: the checkpoint signing key and how often to sign.
    package struct LogSettings: Sendable, Hashable {
        /// `$CREDENTIALS_DIRECTORY/log-signing-key` is used instead when present.
        package var signingKey: String?
        package var checkpointEveryEntries: Int64 = 1000
        package var checkpointEverySeconds: Int64 = 300
    }
}

extension Configuration.LogSettings {
    /// The `log` section (the defaults when absent).
    init(section: ConfigurationSection?) {
        guard let section else { return }
        signingKey = section.file("signingKey")
        if let value = section.integer("checkpointEveryEntries") { checkpointEveryEntries = value }
        if let value = section.integer("checkpointEverySeconds") { checkpointEverySeconds = value }
    }
}
