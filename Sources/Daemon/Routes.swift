import HTTP
import JSON

/// Every route of the partner API (DESIGN.md, "The HTTP contract").
package enum Routes {
    package static func make() -> Router<Endpoint> {
        var router = Router<Endpoint>()
        router.add(.get, "/v1/whoami", .immediate(whoami))
        return router
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
}
