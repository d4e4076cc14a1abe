import Exchange

extension Recipient {
    /// The `recipients` array: what the schema cannot see, each recipient listed once and each
    /// pull recipient's partner configured with the receive role. A recipient whose delivery
    /// mode is neither push nor pull is left out (the schema has said so).
    static func configured(_ sections: [ConfigurationSection], partners: [Partner], _ problems: inout ConfigurationProblems) -> [Recipient] {
        var recipients: [Recipient] = []
        var seen: Set<String> = []
        for section in sections {
            let id = section.string("id") ?? ""
            if !id.isEmpty && !seen.insert(id).inserted { problems.add(section.setting("id"), "recipient \(id) is listed twice") }
            guard let delivery = section.section("delivery"), let mode = DeliveryMode(section: delivery, partners: partners, &problems) else {
                continue
            }
            recipients.append(Recipient(
                id: id, name: section.string("name") ?? "", services: Set(section.strings("services") ?? []),
                fields: section.strings("fields") ?? [], categories: Set(section.strings("categories") ?? []), delivery: mode
            ))
        }
        return recipients
    }
}

extension DeliveryMode {
    /// A recipient's `delivery`: push to an endpoint whose certificate chains to `ca`, or pull
    /// by a partner that holds the receive role.
    init?(section: ConfigurationSection, partners: [Partner], _ problems: inout ConfigurationProblems) {
        switch section.string("mode") {
        case "push":
            self = .push(endpoint: section.string("endpoint") ?? "", caPath: section.file("ca") ?? "")
        case "pull":
            let partnerID = section.string("partner") ?? ""
            self = .pull(partnerID: partnerID)
            guard !partnerID.isEmpty, !problems.names(section.path) else { return }
            guard let partner = partners.first(where: { $0.id == partnerID }) else {
                problems.add(section.setting("partner"), "there is no partner \(partnerID)")
                return
            }
            if !partner.roles.contains(.receive) {
                problems.add(section.setting("partner"), "partner \(partnerID) needs the receive role to pull a mailbox")
            }
        default:
            return nil
        }
    }
}
