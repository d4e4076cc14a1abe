import Console
import Exchange
import Foundation
import HTTP
import JSON
import Server
import Synchronization
import TLS

/// The admin console's routes (`/console/…`, issue 16): server-rendered HTML over the exchange's
/// operations, each reading logged as the API logs it. Only for partners with the admin role:
/// `APIResponder` answers anyone else as it answers an unknown path. Every action is a POST with
/// a CSRF token bound to the client certificate and the form's path, refused when the browser
/// says it came from another site.
package enum ConsoleRoutes {
    /// The headers of every console answer (`ConsoleHeadersMiddleware` sets them).
    package static let headers: [(String, String)] = [
        ("content-security-policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ]

    /// The most entries a CSV of the console holds (the host's `refex log export` has no limit).
    static let csvLimit = 100_000
    /// Entries per log page.
    static let pageSize = 100

    package static func add(
        to router: inout Router<Endpoint>, exchange: Exchange, console: ConsoleEnvironment, partners: PartnerRoster,
        logRetention: Duration?, enqueued: @escaping @Sendable () -> Void
    ) {
        func page(_ method: HTTPMethod, _ path: String, _ body: @escaping @Sendable (RequestContext, Actor) async throws -> HTTPResponse) {
            router.add(method, path, .deferred(roles: [], middleware: MiddlewareChain([])) { context in
                // APIResponder refuses anyone else first; this is the second lock on the door.
                guard context.partner.roles.contains(.admin) else { throw Problem.notFound() }
                return try await rendered { try await body(context, Routes.actor(context)) }
            })
        }
        func action(_ path: String, _ body: @escaping @Sendable (RequestContext, Actor, [String: String]) async throws -> HTTPResponse) {
            page(.post, path) { context, actor in
                let form = try checkedForm(context, tokens: console.tokens)
                return try await body(context, actor, form)
            }
        }

        router.add(.get, "/console", .immediate(roles: [], middleware: MiddlewareChain([])) { context in
            guard context.partner.roles.contains(.admin) else { throw Problem.notFound() }
            return HTTPResponse(status: HTTPStatus(308, "Permanent Redirect"), headers: ["location": "/console/"])
        })
        router.add(.get, "/console/static/console.css", .immediate(roles: [], middleware: MiddlewareChain([])) { context in
            guard context.partner.roles.contains(.admin) else { throw Problem.notFound() }
            return HTTPResponse(status: .ok, headers: ["content-type": "text/css; charset=utf-8"], body: Array(Stylesheet.css.utf8))
        })

        // MARK: Overview

        page(.get, "/console/") { context, _ in
            let settings = console.settings
            let now = Timestamp(Date())
            let time = settings.time
            let today = time.dayNumber(now)
            let counts = try await console.dailyCounts(exchange, time: time, firstDay: today - 29, lastDay: today, now: now)
            let snapshot = try await console.snapshot(exchange)
            let facts = OverviewPage.Facts(
                now: now, counts: counts, statistics: snapshot.statistics, outbox: try await exchange.outboxDepths(), openCircuits: console.openCircuits(),
                verification: try await console.lastVerification(exchange), logHead: snapshot.logHeadSeq,
                checkpoint: snapshot.lastCheckpointSeq.flatMap { seq in snapshot.lastCheckpointTime.map { (seq, $0) } },
                retention: try await console.retentionStatus(exchange),
                warnings: warnings(console, settings: settings, now: Date())
            )
            let html = OverviewPage.page(facts, context: sentenceContext(settings, exchange), verifyToken: token(context, console, ConsoleURL.verify))
            return htmlResponse(html)
        }
        action("/console/verify") { _, actor, _ in
            let report = try await exchange.verifyLog(publicKey: console.publicKey, kept: nil, logRetention: logRetention, by: actor)
            _ = report
            // The verification is recorded in the log; the overview reads it from there.
            return HTTPResponse(status: HTTPStatus(303, "See Other"), headers: ["location": ConsoleURL.overview.text])
        }

        // MARK: The log

        page(.get, "/console/log") { context, actor in
            let settings = console.settings
            let query = try LogQuery(context.request.queryItems, time: settings.time)
            let page = try await Routes.mapped {
                try await exchange.logPage(query.filter, limit: pageSize, knownPartners: partners.all, by: actor)
            }
            let choices = LogPages.FilterChoices(recipients: exchange.recipients.map { ($0.id, $0.name) }.sorted { $0.0 < $1.0 })
            return htmlResponse(LogPages.list(entries: page.entries, next: page.next, query: query, choices: choices, context: sentenceContext(settings, exchange)))
        }
        page(.get, "/console/log.csv") { context, actor in
            let query = try LogQuery(context.request.queryItems, time: console.settings.time)
            var filter = query.filter
            filter.beforeSeq = nil
            let lines = Mutex<(rows: [String], overflow: Bool)>(([LogCSV.headerLine], false))
            _ = try await Routes.mapped {
                try await exchange.exportLog(filter, knownPartners: partners.all, by: actor) { entry in
                    lines.withLock { state in
                        if state.rows.count > csvLimit { state.overflow = true } else { state.rows.append(LogCSV.row(entry)) }
                    }
                }
            }
            return try csvResponse(lines.withLock { $0 }, name: "refex-log.csv")
        }
        page(.get, "/console/log/:seq") { context, actor in
            guard let text = context.parameters["seq"], let seq = LogFilter.decimal(text), seq > 0 else { throw Problem.notFound("There is no such log entry.") }
            let settings = console.settings
            let (entry, related) = try await Routes.mapped {
                do {
                    return try await exchange.logEntry(String(seq), by: actor)
                } catch is FilterError {
                    throw Problem.notFound("There is no such log entry.")
                }
            }
            let head = try await exchange.logHead()
            return htmlResponse(LogPages.entry(entry, related: related, head: head, context: sentenceContext(settings, exchange)))
        }

        // MARK: A subject

        // "Open a subject": an id, or the start of one, to its page (ids only: a name is refused).
        page(.get, "/console/subjects") { context, _ in
            var given: String?
            for (name, value) in context.request.queryItems {
                guard name == "id", given == nil else { throw Problem(FilterError("id", "Give one subject id (or its start) as id.")) }
                given = value.trimmingCharacters(in: .whitespaces)
            }
            guard let text = given, !text.isEmpty else { throw Problem(FilterError("id", "Give a subject id (or its start) as id.")) }
            let id = try await Routes.mapped { try await exchange.resolveStoredID(text, .subject) }
            return HTTPResponse(status: HTTPStatus(303, "See Other"), headers: ["location": ConsoleURL.subject(id).text])
        }
        page(.get, "/console/subjects/:id") { context, actor in
            let id = try Routes.identifier(context)
            let settings = console.settings
            let timeline = try await Routes.mapped { try await exchange.subjectTimeline(id, by: actor) }
            var sentences = sentenceContext(settings, exchange)
            for view in timeline.consents {
                var by: String?
                if case .shown(let details) = view.details { by = details["obtainedBy"]?.stringValue }
                sentences.consents[view.record.id] = SentenceContext.ConsentFacts(
                    method: view.record.method, obtainedAt: view.record.obtainedAt, obtainedBy: by
                )
            }
            return htmlResponse(SubjectPages.subject(timeline, context: sentences) { url in token(context, console, url) })
        }
        action("/console/subjects/:id/referrals/:rid/reveal") { context, actor, _ in
            let id = try Routes.identifier(context)
            guard let referral = context.parameters["rid"], isUUID(referral) else { throw Problem.notFound() }
            let revealed = try await Routes.mapped { try await exchange.revealReferral(referral, subjectID: id, by: actor) }
            return htmlResponse(SubjectPages.revealed(revealed, context: sentenceContext(console.settings, exchange)))
        }
        page(.get, "/console/subjects/:id/export.json") { context, actor in
            let id = try Routes.identifier(context)
            let export = try await Routes.mapped { try await exchange.exportSubject(id, by: actor) }
            return HTTPResponse(
                status: .ok, json: Rendering.json(export),
                headers: ["content-disposition": "attachment; filename=\"subject-\(id).json\""]
            )
        }
        page(.get, "/console/subjects/:id/letter") { context, actor in
            let id = try Routes.identifier(context)
            let settings = console.settings
            let export = try await Routes.mapped { try await exchange.exportSubject(id, by: actor) }
            return htmlResponse(SubjectPages.letter(export, controller: settings.controllerName, context: sentenceContext(settings, exchange)))
        }

        // Confirmations, then the actions themselves.
        page(.get, "/console/subjects/:id/erase") { context, _ in
            let id = try Routes.identifier(context)
            let preview = try await Routes.mapped { try await exchange.erasurePreview(id) }
            let url = ConsoleURL.subjectAction(id, "erase")
            return htmlResponse(ConfirmationPages.erase(preview, context: sentenceContext(console.settings, exchange), token: token(context, console, url)))
        }
        action("/console/subjects/:id/erase") { context, actor, form in
            let id = try Routes.identifier(context)
            let outcome = try await Routes.mapped { try await exchange.eraseSubject(id, justification: reason(form), by: actor) }
            enqueued()
            let names = sentenceContext(console.settings, exchange)
            var lines = outcome.alreadyErased
                ? ["The subject had already been erased; nothing more was done."]
                : ["The subject's data was erased (its key destroyed).", "\(outcome.cancelled.count) disclosure(s) cancelled before they went."]
            lines += outcome.notices.map { "Erasure notice queued for \(names.recipient($0.recipientID))." }
            return htmlResponse(ConfirmationPages.done(title: "Subject erased", subjectID: id, lines: lines))
        }
        for restrict in [true, false] {
            let name = restrict ? "restrict" : "lift"
            page(.get, "/console/subjects/:id/\(name)") { context, _ in
                let id = try Routes.identifier(context)
                let (subject, disclosures) = try await Routes.mapped { try await exchange.subjectStanding(id) }
                if subject.erasedAt != nil { throw Problem(ExchangeError(.erased, "The subject was erased; there is nothing to restrict.")) }
                let waiting = disclosures.filter { $0.state == .queued || $0.state == .awaitingConsent }.count
                let held = disclosures.filter { $0.state == .refused && $0.reason == WithholdingReason.restricted.rawValue }.count
                let url = ConsoleURL.subjectAction(id, name)
                return htmlResponse(ConfirmationPages.restriction(
                    subject: subject, restrict: restrict, waiting: waiting, withheldForRestriction: held, token: token(context, console, url)
                ))
            }
            action("/console/subjects/:id/\(name)") { context, actor, form in
                let id = try Routes.identifier(context)
                let outcome = try await Routes.mapped { try await exchange.restrictSubject(id, restrict, reason: reason(form), by: actor) }
                if !restrict { enqueued() }
                let lines = outcome.changed.isEmpty
                    ? ["Nothing changed: the subject was already \(restrict ? "restricted" : "unrestricted")."]
                    : ["\(outcome.changed.count) disclosure(s) \(restrict ? "withheld" : "decided again")."]
                return htmlResponse(ConfirmationPages.done(title: restrict ? "Processing restricted" : "Restriction lifted", subjectID: id, lines: lines))
            }
        }
        page(.get, "/console/subjects/:id/rectify") { context, _ in
            let id = try Routes.identifier(context)
            let (subject, disclosures) = try await Routes.mapped { try await exchange.subjectStanding(id) }
            if subject.erasedAt != nil { throw Problem(ExchangeError(.erased, "The subject was erased; there is nothing to rectify.")) }
            let told = Set(disclosures.filter { $0.state == .delivered && $0.reason == nil }.compactMap(\.recipientID)).sorted()
            let url = ConsoleURL.subjectAction(id, "rectify")
            return htmlResponse(ConfirmationPages.rectify(
                subjectID: id, recipientsWithData: told, context: sentenceContext(console.settings, exchange), token: token(context, console, url)
            ))
        }
        action("/console/subjects/:id/rectify") { context, actor, form in
            let id = try Routes.identifier(context)
            guard let patch = form["patch"], !patch.isEmpty else {
                throw Problem(.badRequest, slug: "bad-form", title: "Nothing to correct", detail: "Give the corrections as a JSON Merge Patch.")
            }
            let outcome = try await Routes.mapped { try await exchange.rectifySubject(id, patch: Array(patch.utf8), by: actor) }
            enqueued()
            let names = sentenceContext(console.settings, exchange)
            let fields = outcome.changed.map(names.fieldNames.name(of:))
            let lines = ["Corrected: \(fields.joined(separator: "; "))."] + outcome.noticeRecipients.map { "Correction notice queued for \(names.recipient($0))." }
            return htmlResponse(ConfirmationPages.done(title: "Data corrected", subjectID: id, lines: lines))
        }

        // MARK: Overrides, charts, partners

        page(.get, "/console/overrides") { context, actor in
            let settings = console.settings
            let (month, basis, since, until) = try overrideQuery(context.request.queryItems, time: settings.time)
            let entries = try await Routes.mapped { try await exchange.overrides(since: since, until: until, basis: basis, limit: 501, by: actor) }
            return htmlResponse(OverridesPage.page(
                Array(entries.prefix(500)), month: month, basis: basis?.rawValue ?? "", truncated: entries.count > 500,
                context: sentenceContext(settings, exchange)
            ))
        }
        page(.get, "/console/overrides.csv") { context, actor in
            let (_, basis, since, until) = try overrideQuery(context.request.queryItems, time: console.settings.time)
            let entries = try await Routes.mapped { try await exchange.overrides(since: since, until: until, basis: basis, limit: csvLimit + 1, by: actor) }
            return try csvResponse(([LogCSV.headerLine] + entries.prefix(csvLimit).map(LogCSV.row), entries.count > csvLimit), name: "refex-overrides.csv")
        }
        page(.get, "/console/charts") { context, _ in
            let settings = console.settings
            let time = settings.time
            let now = Timestamp(Date())
            var from = LocalTime.isoDate(dayNumber: time.dayNumber(now) - 29)
            var to = LocalTime.isoDate(dayNumber: time.dayNumber(now))
            var seen: Set<String> = []
            for (name, value) in context.request.queryItems {
                guard name == "from" || name == "to" else {
                    throw Problem(FilterError("range", "The charts take from and to only.", validValues: ["from", "to"]))
                }
                guard seen.insert(name).inserted else { throw Problem(FilterError(name, "\(name) is given more than once.")) }
                guard !value.isEmpty else { continue }
                guard time.startOfDay(value) != nil else { throw Problem(FilterError(name, "\(name) must be a date (YYYY-MM-DD).")) }
                if name == "from" { from = value } else { to = value }
            }
            guard let start = time.startOfDay(from), let end = time.startOfDay(to) else { throw Problem.notFound() }
            let firstDay = time.dayNumber(start), lastDay = time.dayNumber(end)
            guard firstDay <= lastDay else { throw Problem(FilterError("from", "from must not be after to.")) }
            guard lastDay - firstDay < 366 else { throw Problem(FilterError("to", "The charts show at most 366 days.")) }
            let counts = try await console.dailyCounts(exchange, time: time, firstDay: firstDay, lastDay: lastDay, now: Timestamp(Date()))
            return htmlResponse(ChartsPage.page(counts: counts, firstDay: firstDay, lastDay: lastDay, from: from, to: to, context: sentenceContext(settings, exchange)))
        }
        page(.get, "/console/partners") { _, _ in
            let settings = console.settings
            let seen = console.partnerCertificates?.seen(now: Date()) ?? [:]
            let listed = settings.partners.map { partner in
                PartnersPage.Partner(
                    id: partner.id, name: partner.name, roles: partner.roles.sorted().map(\.rawValue),
                    certificates: partner.certificates.map(\.description),
                    seen: (seen[partner.id] ?? []).map { ($0.fingerprint, Timestamp($0.notAfter)) }
                )
            }
            return htmlResponse(PartnersPage.page(partners: listed, recipients: exchange.recipients, now: Timestamp(Date()), context: sentenceContext(settings, exchange)))
        }
    }

    // MARK: Pieces

    static func sentenceContext(_ settings: ConsoleEnvironment.Settings, _ exchange: Exchange) -> SentenceContext {
        SentenceContext(
            time: settings.time, recipientNames: Dictionary(exchange.recipients.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }),
            partnerNames: Dictionary(settings.partners.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }),
            fieldNames: settings.fieldNames
        )
    }

    /// The CSRF token for a form posting to `url`, bound to the caller's certificate.
    static func token(_ context: RequestContext, _ console: ConsoleEnvironment, _ url: ConsoleURL) -> String {
        console.tokens.token(fingerprint: fingerprint(context), action: "POST " + url.text, now: Timestamp(Date()))
    }

    static func fingerprint(_ context: RequestContext) -> String {
        context.connection.peerCertificate?.sha256Fingerprint ?? "none"
    }

    /// A state-changing POST's form, once it is shown to come from this console: refused (403)
    /// when the browser says it came from another site (`Sec-Fetch-Site`), from another origin
    /// (`Origin`), or without a valid token for this certificate and this path. Checked before
    /// anything is read or changed.
    static func checkedForm(_ context: RequestContext, tokens: CSRFTokens) throws -> [String: String] {
        let request = context.request
        let refused = Problem(
            .forbidden, slug: "csrf-refused", title: "Form refused",
            detail: "This form did not come from the console page it belongs to, or it is too old. Open the page again and resubmit; nothing was changed."
        )
        if let site = request.headers["sec-fetch-site"], site != "same-origin" { throw refused }
        // A browser sends `Origin: null` on a same-origin POST from a page whose referrer policy
        // is no-referrer (the console's own); it is taken only beside `Sec-Fetch-Site: same-origin`.
        if let origin = request.headers["origin"], !(origin == "null" && request.headers["sec-fetch-site"] == "same-origin") {
            guard let host = request.headers["host"], origin == "https://" + host else { throw refused }
        }
        guard request.mediaType == "application/x-www-form-urlencoded" else {
            throw Problem(.unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type", detail: "Console forms are application/x-www-form-urlencoded.")
        }
        var form: [String: String] = [:]
        for pair in request.body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(Substring(decoding: parts[0], as: UTF8.self), plusAsSpace: true)
            let value = parts.count > 1 ? percentDecoded(Substring(decoding: parts[1], as: UTF8.self), plusAsSpace: true) : ""
            // A name twice is a form this console did not make.
            guard form[name] == nil else { throw refused }
            form[name] = value
        }
        guard let token = form["csrf"],
              tokens.isValid(token, fingerprint: fingerprint(context), action: "POST " + String(request.path), now: Timestamp(Date())) else {
            throw refused
        }
        return form
    }

    /// The optional reason of a form, nil when empty (the exchange checks it as free text).
    static func reason(_ form: [String: String]) -> String? {
        guard let text = form["reason"]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    static func isUUID(_ text: String) -> Bool {
        text.utf8.count == 36 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }
    }

    /// `month` (YYYY-MM, default this month) and `basis` (a lawful basis other than consent, or any).
    static func overrideQuery(_ items: [(name: String, value: String)], time: LocalTime) throws
        -> (month: String, basis: LawfulBasis?, since: Timestamp, until: Timestamp) {
        let now = time.fields(Timestamp(Date()))
        var month = "\(now.year)-\(now.month < 10 ? "0" : "")\(now.month)"
        var basis: LawfulBasis?
        var seen: Set<String> = []
        for (name, value) in items {
            guard name == "month" || name == "basis" else {
                throw Problem(FilterError("filter", "The overrides take month and basis only.", validValues: ["month", "basis"]))
            }
            guard seen.insert(name).inserted else { throw Problem(FilterError(name, "\(name) is given more than once.")) }
            guard !value.isEmpty else { continue }
            if name == "month" {
                guard value.utf8.count == 7, time.startOfDay(value + "-01") != nil else { throw Problem(FilterError("month", "month must be YYYY-MM.")) }
                month = value
            } else {
                guard let chosen = LawfulBasis(rawValue: value), chosen != .consent else {
                    throw Problem(FilterError("basis", "basis is not an override's lawful basis.", validValues: LawfulBasis.allCases.filter { $0 != .consent }.map(\.rawValue)))
                }
                basis = chosen
            }
        }
        guard let since = time.startOfDay(month + "-01") else { throw Problem(FilterError("month", "month must be YYYY-MM.")) }
        let parts = month.split(separator: "-")
        let year = Int(parts[0]) ?? 1970, number = Int(parts[1]) ?? 1
        let next = number == 12 ? "\(year + 1)-01-01" : "\(year)-\(number + 1 < 10 ? "0" : "")\(number + 1)-01"
        return (month, basis, since, time.startOfDay(next) ?? since)
    }

    static func warnings(_ console: ConsoleEnvironment, settings: ConsoleEnvironment.Settings, now: Date) -> [String] {
        var out: [String] = []
        let soon = now.addingTimeInterval(30 * 86_400)
        let time = settings.time
        func when(_ date: Date) -> String { time.inSentence(Timestamp(date)) }
        if let context = console.tls?.current {
            let server = context.certificate.notAfter
            if server < now {
                out.append("The server certificate expired on \(when(server)): every partner's handshake fails.")
            } else if server < soon {
                out.append("The server certificate expires on \(when(server)), within 30 days.")
            }
            if let next = context.crlNextUpdate {
                if next < now {
                    out.append("The CRL is past its next update (\(when(next))): every partner is refused until a fresh CRL is installed and refex reloaded.")
                } else if next < now.addingTimeInterval(3 * 86_400) {
                    out.append("The CRL's next update is due on \(when(next)): install a fresh CRL and reload before then.")
                }
            }
            for ca in context.clientCAs where ca.notAfter < soon {
                out.append("A client CA certificate (SHA-256 \(String(ca.sha256Fingerprint.prefix(16)))…) \(ca.notAfter < now ? "expired" : "expires") on \(when(ca.notAfter)).")
            }
        }
        for (partner, certificates) in (console.partnerCertificates?.seen(now: now) ?? [:]).sorted(by: { $0.key < $1.key }) {
            for certificate in certificates where certificate.notAfter < soon {
                out.append("Partner \(partner)'s certificate (SHA-256 \(String(certificate.fingerprint.prefix(16)))…) \(certificate.notAfter < now ? "expired" : "expires") on \(when(certificate.notAfter)).")
            }
        }
        return out
    }

    // MARK: Answers

    static func htmlResponse(_ html: HTML, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["content-type": "text/html; charset=utf-8"], body: Array(html.markup.utf8))
    }

    static func csvResponse(_ lines: (rows: [String], overflow: Bool), name: String) throws -> HTTPResponse {
        guard !lines.overflow else {
            throw Problem(
                .unprocessableContent, slug: "too-many-entries", title: "Too many entries",
                detail: "More than \(csvLimit) entries match: narrow the filter, or use refex log export on the host."
            )
        }
        return HTTPResponse(
            status: .ok,
            headers: ["content-type": "text/csv; charset=utf-8", "content-disposition": "attachment; filename=\"\(name)\""],
            body: Array((lines.rows.joined(separator: "\r\n") + "\r\n").utf8)
        )
    }

    /// The page `body` renders, or a problem it throws as an HTML page with the problem's status
    /// (its detail names parameters and rules, never a value sent).
    static func rendered(_ body: () async throws -> HTTPResponse) async throws -> HTTPResponse {
        let problem: Problem
        do {
            return try await body()
        } catch let error as Problem {
            problem = error
        } catch let error as ExchangeError {
            problem = Problem(error)
        } catch let error as FilterError {
            problem = Problem(error)
        }
        var response = htmlResponse(Layout.errorPage(title: problem.title, message: problem.detail), status: problem.status)
        for (name, value) in problem.headers { response.headers.set(name, value) }
        return response
    }
}

/// Sets the console's headers (`ConsoleRoutes.headers`: CSP, no caching, no sniffing, no
/// referrer) on every answer to an admin under `/console`, errors included. Anyone else's
/// answer is left as the unknown path's.
struct ConsoleHeadersMiddleware: Middleware {
    func handle(_ request: HTTPRequest, context: APIRequestContext, next: @escaping RequestHandler<APIRequestContext>) -> PendingResponse {
        guard ConsoleHeadersMiddleware.isConsole(request.path), context.partner?.roles.contains(.admin) == true else {
            return next(request, context)
        }
        return next(request, context).mapResponse { response in
            var response = response
            for (name, value) in ConsoleRoutes.headers { response.headers.set(name, value) }
            return response
        }
    }

    static func isConsole(_ path: Substring) -> Bool { path == "/console" || path.hasPrefix("/console/") }
}
