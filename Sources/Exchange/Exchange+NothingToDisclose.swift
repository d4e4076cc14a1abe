extension Exchange {
    /// Why a disclosure is not made when the recipient's configured fields select nothing from the
    /// referral: sending `data: {}` and recording it as delivered would log a disclosure of nothing
    /// and still tell the recipient that the subject was referred (UK GDPR Art. 5(1)(c)).
    package static let nothingToDiscloseReason = "nothing-to-disclose"

    /// Refuses `disclosure` (reason `nothing-to-disclose`, decided by `system`) when `selected`,
    /// the recipient's minimised part of the referral, holds no field. This is permanent, unlike a
    /// restriction or missing consent, so it takes their place; the caller logs it as withheld.
    /// Returns whether it refused.
    @discardableResult
    static func refuseIfNothingToDisclose(_ disclosure: inout DisclosureRecord, selected: MinimisedData?) -> Bool {
        guard selected?.pointers.isEmpty ?? true else { return false }
        disclosure.state = .refused
        disclosure.reason = nothingToDiscloseReason
        disclosure.actor = "system"
        disclosure.lawfulBasis = nil
        disclosure.consentID = nil
        return true
    }
}
