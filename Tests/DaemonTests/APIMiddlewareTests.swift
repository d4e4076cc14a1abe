@testable import Daemon
import Foundation
import HTTP
import JSON
import Logging
import Metrics
import Server
import TLS
import XCTest

/// The partner listener's own middleware, each alone: authentication, roles, recording.
final class APIMiddlewareTests: XCTestCase {
    private let fingerprint = String(repeating: "ab", count: 32)
    private let ok: RequestHandler<APIRequestContext> = { _, _ in .response(HTTPResponse(text: "ok")) }

    private func certificate(_ fingerprint: String, notAfter: Date = .distantFuture) -> Certificate {
        Certificate(der: [], sha256Fingerprint: fingerprint, subject: "CN=x", issuer: "CN=ca", serialNumber: "01",
                    notBefore: .distantPast, notAfter: notAfter)
    }

    private func context(partner: Partner?, certificate: Certificate?, route: String = "/v1/whoami") -> APIRequestContext {
        var connection = ConnectionContext(id: 7, listener: "api", remoteAddress: nil, peerCertificate: certificate, tlsVersion: "TLSv1.3")
        connection.peerChain = certificate.map { [$0] } ?? []
        var router = Router<RequestHandler<RequestContext>>()
        router.add(.get, route) { _, _ in .response(HTTPResponse()) }
        return APIRequestContext(
            requestID: "00000000000000aa", startedAt: MonotonicClock.now(), connection: connection, partner: partner,
            match: router.match(.get, path: route[...])
        )
    }

    private func problemType(_ response: HTTPResponse) throws -> String? {
        try JSONValue.parse(response.body)["type"]?.stringValue
    }

    func testAuthenticationFindsThePartnerAndRefusesACertificateOfNoneWith403() async throws {
        let police = Partner(id: "police", name: "Police", roles: [.refer], certificates: [.fingerprint(fingerprint)])
        let log = InMemoryLogSink()
        let expiry = PartnerCertificateExpiry()
        let authentication = PartnerAuthenticationMiddleware(partners: PartnerDirectory([police]), logger: Logger(sink: log), partnerCertificates: expiry)
        let known = certificate(fingerprint)
        let found = authentication.partner(for: context(partner: nil, certificate: known).connection)
        XCTAssertEqual(found?.id, "police")

        let passed = try await authentication.handle(HTTPRequest(method: .get, target: "/v1/whoami"), context: context(partner: found, certificate: known), next: ok).value()
        XCTAssertEqual(passed.status.code, 200)
        XCTAssertTrue(log.records.isEmpty)

        let stranger = certificate(String(repeating: "cd", count: 32))
        XCTAssertNil(authentication.partner(for: context(partner: nil, certificate: stranger).connection))
        let refused = try await authentication.handle(
            HTTPRequest(method: .get, target: "/v1/whoami"), context: context(partner: nil, certificate: stranger), next: { _, _ in
                XCTFail("a request without a partner goes no further")
                return .response(HTTPResponse())
            }
        ).value()
        XCTAssertEqual(refused.status.code, 403)
        XCTAssertEqual(try problemType(refused), "urn:refex:problem:unknown-certificate")
        XCTAssertEqual(log.records.map(\.message), ["certificate not registered: 403"])
        XCTAssertEqual(log.records.first?.metadata.map(\.value), [stranger.sha256Fingerprint, "/v1/whoami", "-"])

        authentication.replacePartners(PartnerDirectory([]))
        XCTAssertNil(authentication.partner(for: context(partner: nil, certificate: known).connection), "a reloaded list applies at once")
    }

    func testRolesLetThroughAPartnerWithAnyOfThemAndRefuseOthersWith403() async throws {
        func context(_ roles: Set<Role>) -> RequestContext {
            let partner = Partner(id: "p1", name: "P", roles: roles, certificates: [])
            let connection = ConnectionContext(id: 1, listener: "api", remoteAddress: nil, peerCertificate: nil, tlsVersion: nil)
            return RequestContext(
                request: HTTPRequest(method: .get, target: "/"), partner: partner, parameters: [:], requestID: "r", connection: connection,
                logger: Logger(sink: InMemoryLogSink())
            )
        }
        let next: RequestHandler<RequestContext> = { _, _ in .response(HTTPResponse(text: "ok")) }
        let request = HTTPRequest(method: .get, target: "/")
        let cases: [(needed: Set<Role>, held: Set<Role>, passes: Bool)] = [
            ([], [], true), ([], [.receive], true), ([.refer, .admin], [.admin], true), ([.refer, .admin], [.refer, .receive], true),
            ([.admin], [.refer, .override, .receive], false), ([.receive], [], false), ([.refer, .admin], [.override], false),
        ]
        for (needed, held, passes) in cases {
            let response = try await RoleMiddleware(needed).handle(request, context: context(held), next: next).value()
            XCTAssertEqual(response.status.code, passes ? 200 : 403, "needs \(needed.sorted()), holds \(held.sorted())")
            if !passes {
                XCTAssertEqual(try problemType(response), "urn:refex:problem:role-required")
                let needs = needed.sorted().map(\.rawValue).joined(separator: " or ")
                XCTAssertEqual(try JSONValue.parse(response.body)["detail"]?.stringValue, "This needs the \(needs) role, which partner p1 does not have.")
            }
        }
    }

    func testRecordingLogsAndCountsEachRequestOnceWhenItsAnswerIsKnown() async throws {
        let log = InMemoryLogSink()
        let metrics = MetricsRegistry()
        let recording = RecordingMiddleware<APIRequestContext>(RequestRecorder(logger: Logger(sink: log, level: .debug), metrics: metrics))
        let police = Partner(id: "police", name: "P", roles: [.refer], certificates: [])
        let request = HTTPRequest(method: HTTPMethod("BREW"), target: "/v1/whoami")

        let pending = recording.handle(request, context: context(partner: police, certificate: nil), next: { _, _ in
            .later { HTTPResponse(status: .accepted) }
        })
        XCTAssertTrue(log.records.isEmpty, "recorded when the answer is known, not before")
        _ = try await pending.value()
        let failed = recording.handle(request, context: context(partner: nil, certificate: nil), next: { _, _ in .catching { throw CocoaError(.fileNoSuchFile) } })
        _ = try? await failed.value()

        XCTAssertEqual(log.records.count, 2)
        let fields = log.records.map { Dictionary($0.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        XCTAssertEqual(fields.map { $0["partner"] }, ["police", "-"])
        XCTAssertEqual(fields.map { $0["status"] }, ["202", "500"], "an error that was not mapped counts as 500")
        XCTAssertEqual(fields.map { $0["method"] }, ["other", "other"], "an invented method is not a label")
        XCTAssertEqual(fields.map { $0["route"] }, ["/v1/whoami", "/v1/whoami"])
        XCTAssertEqual(log.records.map(\.level), [.info, .error])
        XCTAssertTrue(metrics.render().contains(#"refex_http_requests_total{listener="api",route="/v1/whoami",method="other",status="202"} 1"#))
    }
}
