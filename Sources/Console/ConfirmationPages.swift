import Exchange

/// The confirmation before each of a subject's rights is acted on, saying what will happen and
/// who will be told, with a POST form to the same path; and the page after.
package enum ConfirmationPages {
    /// The actions, by their path's last segment.
    package enum Action: String, Sendable, CaseIterable {
        case restrict, lift, rectify, erase

        var title: String {
            switch self {
            case .restrict: "Restrict processing"
            case .lift: "Lift the restriction"
            case .rectify: "Rectify the subject's data"
            case .erase: "Erase the subject"
            }
        }
    }

    static func reasonField(optional: Bool = true) -> HTML {
        """
        <div class="field"><label for="reason">Reason\(optional ? " (optional)" : "")</label>
        <span class="hint" id="reason-hint">In words, for the log's reader; no names or other personal details. It is kept sealed with the subject's data.</span>
        <textarea id="reason" name="reason" rows="3" aria-describedby="reason-hint"></textarea></div>

        """
    }

    /// `GET /console/subjects/{id}/erase`.
    package static func erase(_ preview: ErasurePreview, context: SentenceContext, token: String) -> HTML {
        let id = preview.subjectID
        let url = ConsoleURL.subjectAction(id, Action.erase.rawValue)
        if let erased = preview.erasedAt {
            return Layout.page(title: Action.erase.title, section: .subject, body: """
                <p>This subject was erased on \(context.time.inSentence(erased)). There is nothing more to erase.</p>
                <p><a href="\(ConsoleURL.subject(id))">Back to the subject</a></p>
                """)
        }
        let told: [HTML] = preview.recipientsToBeTold.map { notice in
            "<li>\(context.recipient(notice.recipientID)) (disclosure \(Layout.shortID(notice.disclosureID)))\(notice.possiblyReceived ? " – a failed delivery that may still have arrived" : "")</li>"
        }
        let body: HTML = """
            <p>Erasing subject <code>\(id)</code> will:</p>
            <ul>
            <li>destroy the subject's key, so that the \(preview.referralIDs.count) referral(s) and \(preview.consentCount) consent record(s) held about them can never be read again (crypto-shredding, also in backups);</li>
            <li>cancel \(preview.cancelled.count) disclosure(s) that have not yet gone;</li>
            <li>keep only the pseudonymous disclosure log, which names no one.</li>
            </ul>
            <h2>Who will be told</h2>
            \(told.isEmpty ? "<p>No recipient has received anything about this subject: nobody needs to be told.</p>" : "<p>These recipients will be sent an erasure notice (UK GDPR Article 19):</p><ul>\(told)</ul>" as HTML)
            <p><strong>This cannot be undone.</strong></p>
            \(Layout.postForm(action: url, token: token, button: "Erase this subject", fields: reasonField(), buttonClass: "button button-warning"))
            <p><a href="\(ConsoleURL.subject(id))">Cancel and go back</a></p>
            """
        return Layout.page(title: Action.erase.title, section: .subject, body: body)
    }

    /// `GET /console/subjects/{id}/restrict` and `/lift`.
    package static func restriction(subject: SubjectRecord, restrict: Bool, waiting: Int, withheldForRestriction: Int, token: String) -> HTML {
        let id = subject.id
        let action: Action = restrict ? .restrict : .lift
        let url = ConsoleURL.subjectAction(id, action.rawValue)
        let state: HTML = subject.restricted == restrict
            ? "<p>The subject's processing is already \(restrict ? "restricted" : "unrestricted"): confirming changes nothing.</p>" : ""
        let what: HTML = restrict
            ? """
              <p>Restricting processing (UK GDPR Article 18) will stop every further disclosure about subject <code>\(id)</code>:</p>
              <ul><li>\(waiting) disclosure(s) waiting to go will be withheld;</li><li>new referrals' disclosures will be withheld until the restriction is lifted.</li></ul>
              <h2>Who will be told</h2><p>No recipient is sent anything: what they already received is not affected.</p>
              """
            : """
              <p>Lifting the restriction on subject <code>\(id)</code> will decide again the \(withheldForRestriction) disclosure(s) withheld because of it: those that a consent in force or an override still covers will be queued and sent.</p>
              <h2>Who will be told</h2><p>Recipients receive those disclosures as usual; nobody is sent a notice.</p>
              """
        let body: HTML = """
            \(state)\(what)
            \(Layout.postForm(action: url, token: token, button: action.title, fields: reasonField()))
            <p><a href="\(ConsoleURL.subject(id))">Cancel and go back</a></p>
            """
        return Layout.page(title: action.title, section: .subject, body: body)
    }

    /// `GET /console/subjects/{id}/rectify`.
    package static func rectify(subjectID: String, recipientsWithData: [String], context: SentenceContext, token: String) -> HTML {
        let url = ConsoleURL.subjectAction(subjectID, Action.rectify.rawValue)
        let told: [HTML] = recipientsWithData.map { "<li>\(context.recipient($0))</li>" }
        let body: HTML = """
            <p>Rectification (UK GDPR Article 16) corrects the subject's referrals with a JSON Merge Patch (RFC 7396): give only the members to change, e.g. <code>{"subject": {"name": {"family": "Corrected"}}}</code>; <code>null</code> removes a member. Each corrected referral must still satisfy its schema.</p>
            <h2>Who will be told</h2>
            \(told.isEmpty ? "<p>No recipient has received anything about this subject: nobody needs to be told.</p>" : "<p>Each of these recipients that received a field you change is sent a correction notice with the new values of only the fields it may receive (UK GDPR Article 19):</p><ul>\(told)</ul>" as HTML)
            \(Layout.postForm(action: url, token: token, button: "Correct the data", fields: """
            <div class="field"><label for="patch">Corrections (JSON Merge Patch)</label>
            <textarea id="patch" name="patch" rows="8" spellcheck="false" required></textarea></div>

            """))
            <p><a href="\(ConsoleURL.subject(subjectID))">Cancel and go back</a></p>
            """
        return Layout.page(title: Action.rectify.title, section: .subject, body: body)
    }

    /// The page after an action: what was done.
    package static func done(title: String, subjectID: String, lines: [String]) -> HTML {
        let items: [HTML] = lines.map { "<li>\($0)</li>" }
        return Layout.page(title: title, section: .subject, body: """
            \(Layout.notice("Done. The disclosure log records it.", kind: "success"))
            <ul>\(items)</ul>
            <p><a href="\(ConsoleURL.subject(subjectID))">Back to the subject</a></p>
            """)
    }
}
