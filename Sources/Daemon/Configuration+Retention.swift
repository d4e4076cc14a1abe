import Exchange

extension Configuration {
    /// The `retention` section, in days (nil: kept for ever).
    package struct RetentionSettings: Sendable, Hashable {
        package var referralsDays: Int64?
        package var consentsDays: Int64?
        package var logDays: Int64?
        package var runEveryMinutes: Int64 = 60

        package var policy: RetentionPolicy {
            RetentionPolicy(
                referrals: referralsDays.map { .seconds($0 * 86_400) }, consents: consentsDays.map { .seconds($0 * 86_400) },
                log: logDays.map { .seconds($0 * 86_400) }
            )
        }
    }
}

extension Configuration.RetentionSettings {
    /// The `retention` section (the defaults when absent). The log must outlive what it accounts for.
    init(section: ConfigurationSection?, _ problems: inout ConfigurationProblems) {
        guard let section else { return }
        referralsDays = section.integer("referralsDays")
        consentsDays = section.integer("consentsDays")
        logDays = section.integer("logDays")
        if let value = section.integer("runEveryMinutes") { runEveryMinutes = value }
        if let log = logDays, let longest = [referralsDays, consentsDays].compactMap({ $0 }).max(), log < longest {
            problems.add(
                section.setting("logDays"), "must be at least as long as the other retention periods: the log accounts for what they removed"
            )
        }
    }
}
