import Foundation

extension Configuration {
    /// The `console` section: how the admin console shows times, and whose letter it prints.
    package struct ConsoleSettings: Sendable, Hashable {
        /// An IANA time-zone name; every time the console shows is in it, with its offset.
        package var timeZone = "Europe/London"
        /// The organisation that answers for the data (the subject-access letter's sender).
        package var controllerName = "the data controller"
    }
}

extension Configuration.ConsoleSettings {
    /// The `console` section (the defaults when absent). The schema checks the name's shape; the
    /// system's time-zone database must know it.
    init(section: ConfigurationSection?, _ problems: inout ConfigurationProblems) {
        guard let section else { return }
        // A name of the wrong shape is the schema's problem, named once.
        if let zone = section.string("timeZone"), !problems.names(section.setting("timeZone")) {
            if TimeZone(identifier: zone) == nil {
                problems.add(section.setting("timeZone"), "must be an IANA time-zone name this system knows, such as Europe/London")
            } else {
                timeZone = zone
            }
        }
        if let name = section.string("controllerName") { controllerName = name }
    }
}
