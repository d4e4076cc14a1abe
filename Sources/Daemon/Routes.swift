import Crypto
import Exchange
import Foundation
import HTTP
import JSON
import JSONSchema
import Server
import Synchronization
import TLS

/// The ids of the configured partners, replaced on reload: what the log's `actor` filter and the
/// subject search's `partner` are checked against.
package final class PartnerRoster: Sendable {
    private let ids: Mutex<[String]>

    package init(_ ids: [String]) { self.ids = Mutex(ids) }

    package func replace(_ new: [String]) { ids.withLock { $0 = new } }

    package var all: [String] { ids.withLock { $0 } }
}

/// Every route of the partner API (DESIGN.md, "The HTTP contract").
package enum Routes {
    /// `enqueued` is called after a commit that may have put something in the outbox.
    package static func make(
        exchange: Exchange, publicKey: Ed25519PublicKey? = nil, logRetention: Duration? = nil, openAPI: OpenAPIDocument = .missing,
        partners: PartnerRoster = PartnerRoster([]), console: ConsoleEnvironment? = nil,
        enqueued: @escaping @Sendable () -> Void = {}
    ) -> Router<Endpoint> {
        var router = Router<Endpoint>()
        if let console {
            ConsoleRoutes.add(to: &router, exchange: exchange, console: console, partners: partners, logRetention: logRetention, enqueued: enqueued)
        }
        router.add(.get, "/v1/whoami", .immediate(whoami))
        router.add(.get, "/v1/openapi.json", .immediate { _ in try openAPI.response() })

        router.add(.post, "/v1/referrals", .deferred(roles: [.refer]) { context in
            let answer = try await mapped { try await exchange.submitReferral(try jsonBody(context), by: actor(context)) }
            enqueued()
            return HTTPResponse(status: .accepted, json: Rendering.json(answer), headers: ["location": "/v1/referrals/\(answer.id)"])
        })
        router.add(.get, "/v1/referrals/:id", .deferred(roles: [.refer, .admin]) { context in
            let answer = try await mapped { try await exchange.referralStatus(try identifier(context), by: actor(context)) }
            return HTTPResponse(json: Rendering.json(answer))
        })
        router.add(.post, "/v1/referrals/:id/overrides", .deferred(roles: [.override]) { context in
            let referral = try identifier(context)
            let answer = try await mapped { try await exchange.authoriseOverride(referralID: referral, try jsonBody(context), by: actor(context)) }
            enqueued()
            return HTTPResponse(status: .created, json: Rendering.json(answer), headers: ["location": "/v1/referrals/\(referral)"])
        })
        router.add(.post, "/v1/consents", .deferred(roles: [.refer]) { context in
            let answer = try await mapped { try await exchange.recordConsent(try jsonBody(context), by: actor(context)) }
            enqueued()
            return HTTPResponse(status: .created, json: Rendering.json(answer), headers: ["location": "/v1/consents/\(answer.id)"])
        })
        router.add(.get, "/v1/consents/:id", .deferred(roles: [.refer, .admin]) { context in
            var withDetails = false
            for (name, value) in context.request.queryItems {
                guard name == "details", value == "true" || value == "false" else {
                    throw Problem(.badRequest, slug: "bad-query", title: "Unknown query parameter", detail: "The only parameter is details=true (admins).")
                }
                withDetails = value == "true"
            }
            let details = withDetails
            let answer = try await mapped { try await exchange.consentRecord(try identifier(context), withDetails: details, by: actor(context)) }
            return HTTPResponse(json: Rendering.json(answer))
        })
        router.add(.post, "/v1/subjects/:id/withdraw", .deferred(roles: [.refer, .admin]) { context in
            let reason = try freeTextReason(context)
            let answer = try await mapped { try await exchange.withdrawSubject(try identifier(context), reason: reason, by: actor(context)) }
            enqueued()
            return HTTPResponse(json: Rendering.json(answer))
        })
        router.add(.post, "/v1/consents/:id/withdraw", .deferred(roles: [.refer, .admin]) { context in
            let reason = try freeTextReason(context)
            let answer = try await mapped { try await exchange.withdrawConsent(try identifier(context), reason: reason, by: actor(context)) }
            enqueued()
            return HTTPResponse(json: Rendering.json(answer))
        })

        // Pull delivery, for recipients with no inbound endpoint.
        router.add(.get, "/v1/mailbox", .deferred(roles: [.receive]) { context in
            let (after, limit) = try mailboxPage(context.request.queryItems)
            let page = try await mapped { try await exchange.mailbox(for: actor(context), after: after, limit: limit) }
            return HTTPResponse(json: Rendering.json(page))
        })
        router.add(.get, "/v1/mailbox/:id", .deferred(roles: [.receive]) { context in
            let body = try await mapped { try await exchange.mailboxItem(try identifier(context), for: actor(context)) }
            return HTTPResponse(status: .ok, headers: ["content-type": "application/json"], body: body)
        })
        router.add(.post, "/v1/mailbox/:id/ack", .deferred(roles: [.receive]) { context in
            HTTPResponse(json: Rendering.json(try await mapped { try await exchange.acknowledge(try identifier(context), by: actor(context)) }))
        })

        // Accountability (admin): the log and the subject's rights.
        router.add(.get, "/v1/disclosures", .deferred(roles: [.admin]) { context in
            let (filter, limit) = try logFilter(context.request.queryItems)
            let page = try await mapped { try await exchange.logPage(filter, limit: limit, knownPartners: partners.all, by: actor(context)) }
            return HTTPResponse(json: Rendering.json(page))
        })
        router.add(.get, "/v1/disclosures/verify", .deferred(roles: [.admin]) { context in
            let report = try await mapped { try await exchange.verifyLog(publicKey: publicKey, kept: nil, logRetention: logRetention, by: actor(context)) }
            return HTTPResponse(json: Rendering.json(report))
        })
        router.add(.get, "/v1/subjects", .deferred(roles: [.admin]) { context in
            let search = try subjectSearch(context.request.queryItems)
            let matches = try await mapped { try await exchange.findSubjects(search, knownPartners: partners.all, by: actor(context)) }
            return HTTPResponse(json: ["subjects": .array(matches.map(Rendering.json))])
        })
        router.add(.get, "/v1/subjects/:id/export", .deferred(roles: [.admin]) { context in
            HTTPResponse(json: Rendering.json(try await mapped { try await exchange.exportSubject(try identifier(context), by: actor(context)) }))
        })
        router.add(.post, "/v1/subjects/:id/erase", .deferred(roles: [.admin]) { context in
            let reason = try freeTextReason(context)
            let answer = try await mapped { try await exchange.eraseSubject(try identifier(context), justification: reason, by: actor(context)) }
            enqueued()
            return HTTPResponse(json: Rendering.json(answer))
        })
        router.add(.post, "/v1/subjects/:id/restrict", .deferred(roles: [.admin]) { context in
            let reason = try freeTextReason(context)
            return HTTPResponse(json: Rendering.json(try await mapped { try await exchange.restrictSubject(try identifier(context), true, reason: reason, by: actor(context)) }))
        })
        router.add(.post, "/v1/subjects/:id/unrestrict", .deferred(roles: [.admin]) { context in
            let reason = try freeTextReason(context)
            let answer = try await mapped { try await exchange.restrictSubject(try identifier(context), false, reason: reason, by: actor(context)) }
            enqueued()
            return HTTPResponse(json: Rendering.json(answer))
        })
        router.add(.patch, "/v1/subjects/:id", .deferred(roles: [.admin]) { context in
            let answer = try await mapped { try await exchange.rectifySubject(try identifier(context), patch: try jsonBody(context), by: actor(context)) }
            enqueued()
            return HTTPResponse(json: Rendering.json(answer))
        })
        return router
    }

    /// The mailbox page asked for: `after` (an item id, the previous page's `next`) and `limit`
    /// (1 to 500, default 50). Anything else, or a value out of range, is 400: a page silently
    /// clamped or ignored would look like an empty mailbox.
    static func mailboxPage(_ items: [(name: String, value: String)]) throws -> (after: String?, limit: Int) {
        func bad(_ detail: String) -> Problem { Problem(.badRequest, slug: "bad-query", title: "Bad query parameter", detail: detail) }
        var after: String?
        var limit = 50
        var seen: Set<String> = []
        for (name, value) in items {
            guard name == "after" || name == "limit" else { throw bad("The mailbox takes the query parameters after and limit only.") }
            guard seen.insert(name).inserted else { throw bad("\(name) is given more than once.") }
            if name == "limit" {
                guard let number = decimal(value), (1...500).contains(number) else {
                    throw bad("limit must be a whole number from 1 to 500.")
                }
                limit = Int(number)
            } else {
                guard value.utf8.count == 36, value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }) else {
                    throw bad("after must be a mailbox item id (the next of the previous page).")
                }
                after = value
            }
        }
        return (after, limit)
    }

    /// A query parameter that must be a count or a seq: decimal digits only (no sign, no space), at
    /// most 18 of them.
    static func decimal(_ value: String) -> Int64? { LogFilter.decimal(value) }

    /// The log filter from query parameters (the same names as `refex log list`'s options; one
    /// parser, `LogFilter.parse`, for both).
    static func logFilter(_ items: [(name: String, value: String)]) throws -> (LogFilter, Int) {
        do {
            return try LogFilter.parse(items, limits: 1...1000, defaultLimit: 100)
        } catch let error as FilterError {
            throw Problem(error)
        }
    }

    /// The optional `{"reason": "..."}` of an erasure, restriction or withdrawal: no body, or a
    /// JSON object whose only member is a reason in words (checked like a justification).
    static func freeTextReason(_ context: RequestContext) throws -> String? {
        guard !context.request.body.isEmpty else { return nil }
        let body = try jsonBody(context)
        let bad = Problem(.badRequest, slug: "malformed-json", title: "Malformed JSON", detail: "The body must be empty or {\"reason\": \"...\"}.")
        guard case .object(let members)? = try? JSONValue.parse(body) else { throw bad }
        guard members.count <= 1, members.count == 0 || members["reason"]?.stringValue != nil else { throw bad }
        return members["reason"]?.stringValue
    }

    /// The subject search from query parameters: reference, partner, crimeReference, given,
    /// family, dateOfBirth. Their values are personal data: no problem repeats them.
    static func subjectSearch(_ items: [(name: String, value: String)]) throws -> SubjectSearch {
        var search = SubjectSearch()
        var seen: Set<String> = []
        for (name, value) in items {
            guard SubjectSearch.parameters.contains(name) else {
                throw Problem(FilterError("search", "Unknown search parameter.", validValues: SubjectSearch.parameters))
            }
            guard seen.insert(name).inserted else { throw Problem(FilterError(name, "\(name) is given more than once.")) }
            switch name {
            case "reference": search.reference = value
            case "partner": search.partner = value
            case "crimeReference": search.crimeReference = value
            case "given": search.givenName = value
            case "family": search.familyName = value
            default: search.dateOfBirth = value
            }
        }
        return search
    }

    /// Who refex thinks the caller is: integrators use it to check their certificate.
    @Sendable static func whoami(_ context: RequestContext) throws -> HTTPResponse {
        var body: JSONObject = [
            "partner": .string(context.partner.id),
            "name": .string(context.partner.name),
            "roles": .array(context.partner.roles.sorted().map { .string($0.rawValue) }),
        ]
        if let certificate = context.connection.peerCertificate {
            body["certificate"] = [
                "sha256": .string(certificate.sha256Fingerprint),
                "subject": .string(certificate.subject),
                "issuer": .string(certificate.issuer),
                "notAfter": .string(rfc3339(certificate.notAfter)),
            ]
        }
        body["tlsVersion"] = context.connection.tlsVersion.map { .string($0) } ?? .null
        return HTTPResponse(json: .object(body))
    }

    static func actor(_ context: RequestContext) -> Actor {
        Actor(id: context.partner.id, isAdmin: context.partner.roles.contains(.admin))
    }

    /// The request body, which must be JSON (415 otherwise).
    static func jsonBody(_ context: RequestContext) throws -> [UInt8] {
        guard context.request.hasJSONBody else { throw Problem.unsupportedMediaType() }
        return context.request.body
    }

    /// The `:id` path parameter; ids are UUIDs, anything else cannot exist.
    static func identifier(_ context: RequestContext) throws -> String {
        guard let id = context.parameters["id"], id.utf8.count == 36,
              id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }) else {
            throw Problem.notFound("There is no such resource.")
        }
        return id
    }

    /// Runs an exchange operation, turning its errors into problems.
    static func mapped<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as ExchangeError {
            throw Problem(error)
        } catch let error as FilterError {
            throw Problem(error)
        }
    }
}

extension Problem {
    /// 400 for a filter or search that names nothing refex knows, with the valid values.
    init(_ error: FilterError) {
        var extensions: [(String, JSONValue)] = [("parameter", .string(error.parameter))]
        if !error.validValues.isEmpty { extensions.append(("validValues", .array(error.validValues.map { .string($0) }))) }
        var message = error.message.hasSuffix(".") ? String(error.message.dropLast()) : error.message
        if !error.validValues.isEmpty { message += "; valid: \(error.validValues.joined(separator: ", "))" }
        let detail = message.prefix(1).uppercased() + message.dropFirst() + "."
        self.init(.badRequest, slug: "bad-filter", title: "Bad filter", detail: String(detail), extensions: extensions)
    }
}

extension Problem {
    /// The most schema errors one answer lists.
    static let maxListedErrors = 100

    /// `message` without the identifiers in it, for a problem's detail: a detail never repeats a
    /// value sent, and an id in the path is one ("There is no referral ID of yours." becomes
    /// "There is no such referral of yours."). Host commands show the message itself.
    static func detail(withoutIdentifiers message: String) -> String {
        var text = message
        var removed = false
        while let range = text.range(of: #" ?\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b"#, options: .regularExpression) {
            text.removeSubrange(range)
            removed = true
        }
        if removed, text.hasPrefix("There is no "), !text.hasPrefix("There is no such ") {
            text = "There is no such " + text.dropFirst("There is no ".count)
        }
        return text
    }

    init(_ error: ExchangeError) {
        switch error.kind {
        case .malformedJSON:
            self.init(.badRequest, slug: "malformed-json", title: "Malformed JSON", detail: Problem.detail(withoutIdentifiers: error.message))
        case .invalid:
            let errors: [JSONValue] = error.validationErrors.prefix(Problem.maxListedErrors).map { item in
                var object: JSONObject = [
                    "instanceLocation": .string(item.instanceLocation.description),
                    "keywordLocation": .string(item.keywordLocation),
                    "message": .string(item.message),
                ]
                if let absolute = item.absoluteKeywordLocation { object["absoluteKeywordLocation"] = .string(absolute) }
                return .object(object)
            }
            // A refusal by FreeTextPolicy names its rule (never the value) in its own problem type.
            if let rule = error.validationErrors.first?.absoluteKeywordLocation, rule.hasPrefix(FreeTextPolicy.ruleBase) {
                self.init(
                    .unprocessableContent, slug: "free-text-refused", title: "The text explains nothing or identifies someone",
                    detail: error.message,
                    extensions: [("rule", .string(String(rule.dropFirst(FreeTextPolicy.ruleBase.count)))), ("errors", .array(errors))]
                )
                return
            }
            self.init(
                .unprocessableContent, slug: "validation-failed", title: "The document is not valid",
                detail: Problem.detail(withoutIdentifiers: error.message), extensions: [("errors", .array(errors))]
            )
        case .forbidden:
            self.init(.forbidden, slug: "forbidden", title: "Forbidden", detail: error.message)
        case .notFound:
            self.init(.notFound, slug: "not-found", title: "Not found", detail: Problem.detail(withoutIdentifiers: error.message))
        case .conflict:
            self.init(.conflict, slug: "conflict", title: "Conflict", detail: Problem.detail(withoutIdentifiers: error.message))
        case .erased:
            self.init(.gone, slug: "erased", title: "Erased", detail: Problem.detail(withoutIdentifiers: error.message))
        }
    }
}
