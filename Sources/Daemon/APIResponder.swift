import Foundation
import HTTP
import Logging
import Server
import Store
import Synchronization
import TLS

/// The partner listener: identifies the partner by certificate, routes, checks roles and
/// media types, runs the endpoint, and records every answer.
package final class APIResponder: HTTPResponder {
    private let router: Router<Endpoint>
    private let directory: Mutex<PartnerDirectory>
    private let recorder: RequestRecorder
    private let logger: Logger
    private let partnerCertificates: PartnerCertificateExpiry?

    package init(
        router: Router<Endpoint>, partners: PartnerDirectory, recorder: RequestRecorder, logger: Logger,
        partnerCertificates: PartnerCertificateExpiry? = nil
    ) {
        self.router = router
        directory = Mutex(partners)
        self.recorder = recorder
        self.logger = logger
        self.partnerCertificates = partnerCertificates
    }

    /// The partner a connection's verified chain belongs to, if any (its connection budget).
    package func partnerID(for connection: ConnectionContext) -> String? {
        directory.withLock { $0.partner(for: connection.peerChain) }?.id
    }

    /// Swaps in a reloaded partner list; the next request on any connection uses it.
    package func replacePartners(_ partners: PartnerDirectory) {
        directory.withLock { $0 = partners }
    }

    package func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
        let startedAt = MonotonicClock.now()
        let requestID = makeRequestID()

        let recorder = self.recorder
        let method = request.method.rawValue
        @Sendable func answer(_ response: HTTPResponse, route: String, partner: String?) -> HTTPResponse {
            var response = response
            response.setStandardHeaders(requestID: requestID)
            recorder.record(
                listener: connection.listener, requestID: requestID, partner: partner, method: method,
                route: route, status: response.status.code, startedAt: startedAt
            )
            return response
        }

        guard let partner = directory.withLock({ $0.partner(for: connection.peerChain) }) else {
            let fingerprint = connection.peerCertificate?.sha256Fingerprint ?? "none"
            let route: String
            route = routeLabel(request.method, request.path)
            logger.warning("certificate not registered: 403", [
                ("sha256", fingerprint), ("route", route), ("peer", connection.remoteAddress?.description ?? "-"),
            ])
            return .now(answer(Problem(
                .forbidden, slug: "unknown-certificate", title: "Certificate not registered",
                detail: "This client certificate is valid but belongs to no partner. Ask the refex operator to register it (SHA-256 \(fingerprint))."
            ).response, route: route, partner: nil))
        }

        if let certificate = connection.peerCertificate {
            partnerCertificates?.observe(partner: partner.id, fingerprint: certificate.sha256Fingerprint, notAfter: certificate.notAfter)
        }

        let endpoint: Endpoint
        let route: String
        let parameters: [String: String]
        switch router.match(request.method, path: request.path) {
        case .notFound:
            return .now(answer(Problem.notFound().response, route: "unmatched", partner: partner.id))
        case .methodNotAllowed(let allowed, let pattern):
            return .now(answer(Problem.methodNotAllowed(allowed: allowed).response, route: pattern, partner: partner.id))
        case .found(let found, let pattern, let values):
            endpoint = found
            route = pattern
            parameters = values
        }
        if !endpoint.roles.isEmpty && endpoint.roles.isDisjoint(with: partner.roles) {
            let needed = endpoint.roles.sorted().map(\.rawValue).joined(separator: " or ")
            return .now(answer(Problem(
                .forbidden, slug: "role-required", title: "Role required",
                detail: "This needs the \(needed) role, which partner \(partner.id) does not have."
            ).response, route: route, partner: partner.id))
        }
        if !request.body.isEmpty && !request.hasJSONBody {
            return .now(answer(Problem.unsupportedMediaType().response, route: route, partner: partner.id))
        }

        let context = RequestContext(
            request: request, partner: partner, parameters: parameters, requestID: requestID,
            connection: connection, logger: logger.with("request", requestID)
        )
        switch endpoint.work {
        case .immediate(let body):
            return .now(answer(run(context) { try body(context) }, route: route, partner: partner.id))
        case .deferred(let body):
            let logger = self.logger
            let partnerID = partner.id
            return .later {
                let response: HTTPResponse
                do {
                    let priority: StoreWritePriority = Self.essentialRoutes.contains(route) ? .essential : .normal
                    response = try await StoreWritePriority.$current.withValue(priority) { try await body(context) }
                } catch let problem as Problem {
                    response = problem.response
                } catch let error as StoreError where error.isUnavailable {
                    response = Self.storeUnavailable(error, requestID: requestID, logger: logger)
                } catch {
                    logger.error("request failed", [("request", requestID), ("error", String(describing: type(of: error)))])
                    response = Problem.internalError(requestID: requestID).response
                }
                return answer(response, route: route, partner: partnerID)
            }
        }
    }

    private func run(_ context: RequestContext, _ body: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch let problem as Problem {
            return problem.response
        } catch let error as StoreError where error.isUnavailable {
            return Self.storeUnavailable(error, requestID: context.requestID, logger: logger)
        } catch {
            logger.error("request failed", [("request", context.requestID), ("error", String(describing: type(of: error)))])
            return Problem.internalError(requestID: context.requestID).response
        }
    }

    /// Routes whose writes are stored on the disk reserve when nothing else is: the subject's
    /// rights and withdrawals must not wait for space.
    static let essentialRoutes: Set<String> = [
        "/v1/consents/:id/withdraw", "/v1/subjects/:id/withdraw", "/v1/subjects/:id/erase", "/v1/subjects/:id/restrict",
    ]

    /// A write (or a logged read) the store cannot take now: 503 with `Retry-After`, never 500.
    /// Nothing was committed, so the partner sends the same request again later.
    static func storeUnavailable(_ error: StoreError, requestID: String, logger: Logger) -> HTTPResponse {
        // The store logged the cause once (critical); each refusal is in the request log line.
        logger.debug("request refused: the store cannot commit", [("request", requestID), ("reason", error.description)])
        var problem = Problem(
            .serviceUnavailable, slug: "store-unavailable", title: "Cannot store this now",
            detail: error.kind == .corrupt
                ? "refex has stopped acknowledging: its store needs the operator's attention. Nothing was stored; send the request again later."
                : "refex cannot store anything at the moment (its disk is full or failing). Nothing was stored; send the same request again after the time in Retry-After."
        )
        problem.headers.set("retry-after", String(error.retryAfterSeconds))
        return problem.response
    }


    /// The answer to a request that could not be read (or arrived too slowly): logged as the
    /// request it was when its request line was read (method and route), else as `malformed`
    /// or `timeout`.
    package func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse {
        let requestID = makeRequestID()
        var response = Problem(error).response
        response.setStandardHeaders(requestID: requestID)
        let partner = directory.withLock { $0.partner(for: connection.peerChain) }
        var method = "-"
        var route = error.kind == .requestTimeout ? "timeout" : "malformed"
        if let requestMethod = error.method, let target = error.target {
            method = requestMethod.rawValue
            let path = HTTPRequest(method: requestMethod, target: target).path
            route = routeLabel(requestMethod, path)
        }
        recorder.record(
            listener: connection.listener, requestID: requestID, partner: partner?.id, method: method,
            route: route, status: response.status.code, startedAt: MonotonicClock.now()
        )
        return response
    }

    /// The route a request names, for logs and metrics: its pattern when its path matches a route
    /// (whatever the method), else `unmatched` (the label set stays bounded).
    private func routeLabel(_ method: HTTPMethod, _ path: Substring) -> String {
        switch router.match(method, path: path) {
        case .found(_, let pattern, _), .methodNotAllowed(_, let pattern): pattern
        case .notFound: "unmatched"
        }
    }

    package func replyToPlainHTTP(on connection: ConnectionContext) -> HTTPResponse {
        var response = Problem.httpsRequired.response
        response.setStandardHeaders(requestID: makeRequestID())
        return response
    }

    package func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse {
        var problem = Problem(
            .serviceUnavailable, slug: "connection-limit", title: "Too many connections",
            detail: "refex is at its connection limit; retry shortly, and reuse connections (keep-alive)."
        )
        problem.headers.set("retry-after", "1")
        let requestID = makeRequestID()
        var response = problem.response
        response.setStandardHeaders(requestID: requestID)
        recorder.record(
            listener: connection.listener, requestID: requestID, partner: nil, method: "-",
            route: "connection-limit", status: 503, startedAt: MonotonicClock.now()
        )
        return response
    }
}
