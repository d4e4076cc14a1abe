import HTTP
import Logging
import Server
import Synchronization
import TLS

/// Certificate → partner (DESIGN.md, "Roles and identities"). The partner is looked up when the
/// request's context is made (`partner(for:)`), so that the record of a refused request can name
/// its route; this middleware refuses a request whose verified certificate belongs to no partner
/// (403 `unknown-certificate`, a warning naming its fingerprint) and notes the certificate's
/// expiry for the partner it does belong to.
package final class PartnerAuthenticationMiddleware: Middleware {
    private let directory: Mutex<PartnerDirectory>
    private let logger: Logger
    private let partnerCertificates: PartnerCertificateExpiry?

    package init(partners: PartnerDirectory, logger: Logger, partnerCertificates: PartnerCertificateExpiry? = nil) {
        directory = Mutex(partners)
        self.logger = logger
        self.partnerCertificates = partnerCertificates
    }

    /// The partner a connection's verified chain belongs to, under the current partner list.
    package func partner(for connection: ConnectionContext) -> Partner? {
        directory.withLock { $0.partner(for: connection.peerChain) }
    }

    /// Swaps in a reloaded partner list; the next request on any connection uses it.
    package func replacePartners(_ partners: PartnerDirectory) {
        directory.withLock { $0 = partners }
    }

    package func handle(
        _ request: HTTPRequest, context: APIRequestContext, next: @escaping RequestHandler<APIRequestContext>
    ) -> PendingResponse {
        guard let partner = context.partner else {
            logger.warning("certificate not registered: 403", [
                ("sha256", Self.fingerprint(context.connection)), ("route", context.route),
                ("peer", context.connection.remoteAddress?.description ?? "-"),
            ])
            return .response(Self.unknownCertificate(context.connection).response)
        }
        if let certificate = context.connection.peerCertificate {
            partnerCertificates?.observe(partner: partner.id, fingerprint: certificate.sha256Fingerprint, notAfter: certificate.notAfter)
        }
        return next(request, context)
    }

    /// 403 for a certificate that chains to the client CA but belongs to no partner. Its
    /// fingerprint is the caller's own, not a value of the request: the operator needs it.
    package static func unknownCertificate(_ connection: ConnectionContext) -> Problem {
        Problem(
            .forbidden, slug: "unknown-certificate", title: "Certificate not registered",
            detail: "This client certificate is valid but belongs to no partner. Ask the refex operator to register it (SHA-256 \(fingerprint(connection)))."
        )
    }

    private static func fingerprint(_ connection: ConnectionContext) -> String {
        connection.peerCertificate?.sha256Fingerprint ?? "none"
    }
}
