import Foundation
import Exchange

/// `GET /console/`: what an officer checks first.
package enum OverviewPage {
    /// What the overview shows, gathered by the daemon.
    package struct Facts: Sendable {
        package var now: Timestamp
        /// Daily counts of the last 30 days (`OverviewPage.countedEvents`).
        package var counts: [LogEventCount]
        package var statistics: StoreStatistics
        package var outbox: [OutboxDepth]
        /// Recipients whose delivery circuit is open now (from the delivery service).
        package var openCircuits: Set<String>
        package var verification: RecordedVerification?
        package var logHead: Int64?
        package var checkpoint: (seq: Int64, time: Timestamp)?
        package var retention: RetentionStatus?
        /// Warnings in words (certificates, CRL), ids and dates only.
        package var warnings: [String]

        package init(
            now: Timestamp, counts: [LogEventCount], statistics: StoreStatistics, outbox: [OutboxDepth], openCircuits: Set<String> = [],
            verification: RecordedVerification?, logHead: Int64?, checkpoint: (seq: Int64, time: Timestamp)?, retention: RetentionStatus?,
            warnings: [String]
        ) {
            self.now = now
            self.counts = counts
            self.statistics = statistics
            self.outbox = outbox
            self.openCircuits = openCircuits
            self.verification = verification
            self.logHead = logHead
            self.checkpoint = checkpoint
            self.retention = retention
            self.warnings = warnings
        }
    }

    /// The events the overview counts.
    package static let countedEvents: [LogEvent] = [.referralReceived, .disclosureAuthorised, .disclosureWithheld, .disclosureFailed, .disclosureDelivered]

    package static func page(_ facts: Facts, context: SentenceContext, verifyToken: String) -> HTML {
        let today = context.time.dayNumber(facts.now)
        func total(_ days: Int64, _ include: (LogEventCount) -> Bool) -> Int {
            facts.counts.filter { $0.day > today - days && $0.day <= today && include($0) }.reduce(0) { $0 + $1.count }
        }
        let measures: [(String, (LogEventCount) -> Bool)] = [
            ("Referrals received", { $0.event == LogEvent.referralReceived.rawValue }),
            ("Disclosures authorised", { $0.event == LogEvent.disclosureAuthorised.rawValue }),
            ("of which overrides (no consent)", { $0.event == LogEvent.disclosureAuthorised.rawValue && $0.lawfulBasis != nil && $0.lawfulBasis != LawfulBasis.consent.rawValue }),
            ("Disclosures delivered", { $0.event == LogEvent.disclosureDelivered.rawValue }),
            ("Disclosures withheld", { $0.event == LogEvent.disclosureWithheld.rawValue }),
            ("Failed deliveries", { $0.event == LogEvent.disclosureFailed.rawValue }),
        ]
        let activityRows: [HTML] = measures.map { name, include in
            "<tr><th scope=\"row\">\(name)</th><td>\(total(1, include))</td><td>\(total(7, include))</td><td>\(total(30, include))</td></tr>\n"
        }
        let stateRows: [HTML] = DisclosureState.allCases.map {
            "<tr data-state=\"\(attribute: $0.rawValue)\"><th scope=\"row\">\(SubjectPages.stateWords($0))</th><td>\(facts.statistics.disclosuresByState[$0.rawValue] ?? 0)</td></tr>\n"
        }
        let outboxRows: [HTML] = facts.outbox.map { depth in
            let circuit = facts.openCircuits.contains(depth.recipientID) ? "Open: deliveries paused" : "Closed"
            return "<tr data-recipient=\"\(attribute: depth.recipientID)\"><th scope=\"row\">\(context.recipient(depth.recipientID))</th><td>\(depth.pending)</td><td>\(depth.oldestPending.map { context.time.element($0) } ?? "–")</td><td>\(depth.failed)</td><td>\(circuit)</td></tr>\n"
        }
        var warnings = facts.warnings
        let failed = facts.outbox.reduce(0) { $0 + $1.failed }
        if failed > 0 { warnings.append("\(failed) delivery(ies) failed and wait for an operator (refex outbox list --state failed).") }
        if let verification = facts.verification, !verification.valid { warnings.append("The last log verification FAILED.") }
        let warningList: HTML = warnings.isEmpty ? "" : Layout.notice("<h2>Warnings</h2><ul>\(warnings.map { "<li>\($0)</li>" as HTML })</ul>")
        let verification: HTML
        if let last = facts.verification {
            let result: HTML = last.valid ? "<strong class=\"ok\">Intact</strong>" : "<strong class=\"bad\">Failed</strong>"
            verification = Layout.facts([
                ("When", context.time.element(last.time)), ("By", HTML(text: context.actor(last.actor))), ("Result", result),
                ("Entries checked", HTML(text: last.entries.map(String.init) ?? "not recorded")),
                ("Recorded in", "<a href=\"\(ConsoleURL.entry(last.seq))\">log entry \(last.seq)</a>"),
            ])
        } else {
            verification = "<p>No verification is recorded in the recent log.</p>"
        }
        let checkpoint: HTML = facts.checkpoint.map { "<p>Entry \($0.seq), signed \(context.time.element($0.time)). The log holds \(facts.logHead.map(String.init) ?? "no") entries.</p>" as HTML }
            ?? "<p>No signed checkpoint yet.</p>"
        let body: HTML = """
            \(warningList)
            <form id="find-subject" method="get" action="\(ConsoleURL(["subjects"]))">
            <fieldset><legend>Open a subject</legend>
            <div class="field"><label for="find-subject-id">Subject id</label>
            <span class="hint" id="find-subject-id-hint">The whole id or its start (ids only; to find someone by name, use refex subject find on the host)</span>
            <input type="text" id="find-subject-id" name="id" aria-describedby="find-subject-id-hint" autocomplete="off" spellcheck="false"></div>
            <div class="actions"><button type="submit" class="button">Open</button></div>
            </fieldset>
            </form>
            <h2>Activity</h2>
            <div class="table-wrap"><table id="activity"><caption>Activity today, in the last 7 days and in the last 30 days (days in \(context.time.identifier))</caption>
            <thead><tr><th scope="col">What</th><th scope="col">Today</th><th scope="col">7 days</th><th scope="col">30 days</th></tr></thead>
            <tbody>\(activityRows)</tbody></table></div>
            <h2>Disclosures by state</h2>
            <div class="table-wrap"><table id="states"><caption>Every disclosure held, by where it stands; \(facts.statistics.referrals) referral(s) received in all</caption>
            <thead><tr><th scope="col">State</th><th scope="col">Disclosures</th></tr></thead>
            <tbody>\(stateRows)</tbody></table></div>
            <h2>Outboxes</h2>
            \(outboxRows.isEmpty ? "<p>Nothing is waiting for any recipient.</p>" : """
            <div class="table-wrap"><table id="outbox"><caption>What waits for each recipient</caption>
            <thead><tr><th scope="col">Recipient</th><th scope="col">Waiting</th><th scope="col">Oldest waiting since</th><th scope="col">Failed</th><th scope="col">Circuit</th></tr></thead>
            <tbody>\(outboxRows)</tbody></table></div>
            """ as HTML)
            <h2>Log verification</h2>
            \(verification)
            \(Layout.postForm(action: .verify, token: verifyToken, button: "Verify the log now"))
            <h2>Last signed checkpoint</h2>
            \(checkpoint)
            <h2>Retention</h2>
            \(retention(facts.retention, context))
            """
        return Layout.page(title: "Overview", section: .overview, body: body)
    }

    static func retention(_ status: RetentionStatus?, _ context: SentenceContext) -> HTML {
        guard let status else { return "<p>Retention status is not available.</p>" }
        func row(_ name: String, _ kind: RetentionStatus.Kind) -> HTML {
            switch kind {
            case .forever:
                return "<tr><th scope=\"row\">\(name)</th><td>Kept for ever (no retention configured)</td><td>–</td></tr>\n"
            case .kept(let retention, let nextDue, let overdue):
                let days = retention.components.seconds / 86_400
                let due: HTML = nextDue.map { context.time.element($0) + (overdue ? " <strong>(overdue: the next run purges it)</strong>" : "") } ?? "Nothing held"
                return "<tr><th scope=\"row\">\(name)</th><td>\(days) days</td><td>\(due)</td></tr>\n"
            }
        }
        return """
            <div class="table-wrap"><table id="retention"><caption>What retention purges next</caption>
            <thead><tr><th scope="col">Data</th><th scope="col">Kept for</th><th scope="col">Next purge due</th></tr></thead>
            <tbody>\(row("Subjects (after their last referral)", status.referrals))\(row("Consent details (after the consent ended)", status.consents))\(row("Log entries", status.log))</tbody></table></div>
            """
    }
}
