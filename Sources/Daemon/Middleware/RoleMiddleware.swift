import HTTP
import Server

/// Refuses a partner that holds none of a route's roles: 403 `role-required`, naming the roles
/// needed and the partner (its own id). Where a role would reveal that a resource exists, the
/// route answers 404 itself (another partner's referral).
package struct RoleMiddleware: Middleware {
    /// The partner must hold at least one of these; empty lets any partner through.
    private let roles: Set<Role>

    package init(_ roles: Set<Role>) {
        self.roles = roles
    }

    package func handle(_ request: HTTPRequest, context: RequestContext, next: @escaping RequestHandler<RequestContext>) -> PendingResponse {
        guard roles.isEmpty || !roles.isDisjoint(with: context.partner.roles) else {
            let needed = roles.sorted().map(\.rawValue).joined(separator: " or ")
            return .response(Problem(
                .forbidden, slug: "role-required", title: "Role required",
                detail: "This needs the \(needed) role, which partner \(context.partner.id) does not have."
            ).response)
        }
        return next(request, context)
    }
}
