import Foundation
import Exchange

/// `GET /console/partners`: who may do what, and what each recipient may receive.
package enum PartnersPage {
    /// A partner as the config names it.
    package struct Partner: Sendable {
        package var id: String
        package var name: String
        package var roles: [String]
        /// How each certificate is matched (`sha256 …`, `subject … issued by …`).
        package var certificates: [String]
        /// Certificates seen lately: fingerprint and expiry.
        package var seen: [(fingerprint: String, notAfter: Timestamp)]

        package init(id: String, name: String, roles: [String], certificates: [String], seen: [(fingerprint: String, notAfter: Timestamp)]) {
            self.id = id
            self.name = name
            self.roles = roles
            self.certificates = certificates
            self.seen = seen
        }
    }

    package static func page(partners: [Partner], recipients: [Recipient], now: Timestamp, context: SentenceContext) -> HTML {
        let soon = now.milliseconds + 30 * 86_400_000
        let partnerRows: [HTML] = partners.map { partner in
            let certificates: [HTML] = partner.certificates.map { "<li><code class=\"fingerprint\">\($0)</code></li>" }
            let seen: [HTML] = partner.seen.map { item in
                let warning: HTML = item.notAfter.milliseconds < soon ? " <strong class=\"bad\">expires within 30 days</strong>" : ""
                return "<li><code class=\"fingerprint\">\(String(item.fingerprint.prefix(16)))…</code> until \(context.time.element(item.notAfter))\(warning)</li>"
            }
            return """
                <tr data-partner="\(attribute: partner.id)"><th scope="row">\(partner.name) <code>\(partner.id)</code></th><td>\(partner.roles.joined(separator: ", "))</td><td><ul class="plain">\(certificates)</ul></td><td>\(seen.isEmpty ? "Not seen in the last day" : "<ul class=\"plain\">\(seen)</ul>" as HTML)</td></tr>

                """
        }
        let recipientRows: [HTML] = recipients.sorted { $0.id < $1.id }.map { recipient in
            let fields: [HTML] = recipient.fields.map { "<li title=\"\(attribute: $0)\">\(context.fieldNames.name(of: $0))</li>" }
            let delivery: HTML
            switch recipient.delivery {
            case .push(let endpoint, _):
                delivery = "Push to <code>\(host(of: endpoint))</code>"
            case .pull(let partnerID):
                delivery = "Pull (mailbox of partner <code>\(partnerID)</code>)"
            }
            return """
                <tr data-recipient="\(attribute: recipient.id)"><th scope="row">\(recipient.name) <code>\(recipient.id)</code></th><td>\(recipient.services.sorted().map(EventSentence.serviceWords).joined(separator: ", "))</td><td><ul class="plain">\(fields)</ul></td><td>\(recipient.categories.isEmpty ? "None" : recipient.categories.sorted().joined(separator: ", "))</td><td>\(delivery)</td></tr>

                """
        }
        let body: HTML = """
            <h2>Partners</h2>
            <div class="table-wrap"><table id="partners"><caption>Partners, their roles and certificates</caption>
            <thead><tr><th scope="col">Partner</th><th scope="col">Roles</th><th scope="col">Certificates (as configured)</th><th scope="col">Certificates seen and their expiry</th></tr></thead>
            <tbody>\(partnerRows)</tbody></table></div>
            <h2>Recipients</h2>
            <div class="table-wrap"><table id="recipients"><caption>Recipients and what each may receive</caption>
            <thead><tr><th scope="col">Recipient</th><th scope="col">Services</th><th scope="col">Fields</th><th scope="col">Special categories</th><th scope="col">Delivery</th></tr></thead>
            <tbody>\(recipientRows)</tbody></table></div>
            """
        return Layout.page(title: "Partners and recipients", section: .partners, body: body)
    }

    /// The host (and port) of an endpoint URL, nothing else of it.
    static func host(of endpoint: String) -> String {
        guard let start = endpoint.range(of: "://") else { return endpoint }
        let rest = endpoint[start.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        return String(authority.split(separator: "@").last ?? authority)
    }
}
