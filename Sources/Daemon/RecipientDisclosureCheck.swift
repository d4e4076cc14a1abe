import JSON

/// What `refex config check` finds in the recipients that would silently change a disclosure:
/// a `fields` pointer that no referral schema can produce and a category that no referral schema
/// marks (each a problem: the recipient would never receive what the setting seems to give it,
/// often a misspelling), and a service given to more than one recipient (a notice: each of them
/// receives every referral asking for it, which may be meant).
enum RecipientDisclosureCheck {
    /// Adds the problems to `problems` and returns the notices.
    static func check(_ root: ConfigurationSection, shape: ReferralSchemaShape, _ problems: inout ConfigurationProblems) -> [String] {
        let schemas = shape.ids.joined(separator: ", ")
        var providers: [String: [(id: String, path: String)]] = [:]
        var services: [String] = []
        for recipient in root.sections("recipients") {
            let id = recipient.string("id") ?? ""
            if !problems.names(recipient.setting("fields")) {
                for (index, field) in (recipient.strings("fields") ?? []).enumerated() {
                    guard let pointer = try? JSONPointer(parsing: field), !shape.produces(pointer) else { continue }
                    problems.add(
                        "\(recipient.setting("fields"))[\(index)]",
                        "no referral schema (\(schemas)) has \(shortened(field)): recipient \(id) would never receive it; check it against the schema"
                    )
                }
            }
            if !problems.names(recipient.setting("categories")) {
                let marked = shape.categories.sorted().joined(separator: ", ")
                for (index, category) in (recipient.strings("categories") ?? []).enumerated() where !shape.categories.contains(category) {
                    problems.add(
                        "\(recipient.setting("categories"))[\(index)]",
                        "no referral schema (\(schemas)) marks the category \(shortened(category)) (they mark: \(marked)): recipient \(id) would never receive it"
                    )
                }
            }
            for service in recipient.strings("services") ?? [] {
                if providers[service] == nil { services.append(service) }
                providers[service, default: []].append((id, recipient.path))
            }
        }
        return services.compactMap { service in
            guard let given = providers[service], given.count > 1 else { return nil }
            let names = ConfigurationSchema.listed(given.map { "\($0.id) (\($0.path))" }, "and")
            return "service \(service) is given to \(given.count) recipients, \(names): a referral asking for it is disclosed to each"
        }
    }

    /// A setting's text as a problem quotes it: at most 120 characters.
    static func shortened(_ text: String) -> String {
        text.count <= 120 ? text : text.prefix(119) + "…"
    }
}
