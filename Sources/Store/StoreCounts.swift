import Exchange

/// The `store_counts` table of both stores: rows kept by triggers in the same commit as each
/// change they count, so that `/metrics` reads a few rows rather than counting whole tables.
/// `referrals` counts referral rows; `disclosures.<state>` the disclosures in that state.
enum StoreCounts {
    static let referrals = "referrals"
    static let disclosurePrefix = "disclosures."
    /// The rows `statistics(_:)` reads, in its column order.
    static let selection = "SELECT name, total FROM store_counts"

    /// The statistics from the table's rows (columns name, total). A name refex does not
    /// keep, or a state that is not one, is a malformed row: the table is refex's own.
    static func statistics(_ rows: [StrictRow]) throws(StoreError) -> StoreStatistics {
        var referrals = 0
        var states: [String: Int] = [:]
        for row in rows {
            let (name, total) = (try row.text(0), try row.count(1))
            if name == Self.referrals {
                referrals = total
            } else if name.hasPrefix(Self.disclosurePrefix), let state = DisclosureState(rawValue: String(name.dropFirst(Self.disclosurePrefix.count))) {
                // A state every disclosure has left keeps its row at 0: absent, as before any.
                if total > 0 { states[state.rawValue] = total }
            } else {
                // A state is a short token; anything else may be what someone wrote there, and is not repeated.
                throw row.malformed(0, "holds \(StrictRow.isToken(name) ? "'\(name)'" : "a value that is not one"), not a count refex keeps")
            }
        }
        return StoreStatistics(referrals: referrals, disclosuresByState: states)
    }
}
