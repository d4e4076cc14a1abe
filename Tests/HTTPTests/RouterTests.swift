import XCTest
@testable import HTTP

final class RouterTests: XCTestCase {
    func testMatchesLiteralsAndParameters() {
        var router = Router<String>()
        router.add(.get, "/v1/whoami", "whoami")
        router.add(.get, "/v1/referrals/:id", "referral")
        router.add(.post, "/v1/referrals", "post")
        guard case .found(let handler, let pattern, let parameters) = router.match(.get, path: "/v1/referrals/abc%2Dd") else {
            return XCTFail()
        }
        XCTAssertEqual(handler, "referral")
        XCTAssertEqual(pattern, "/v1/referrals/:id")
        XCTAssertEqual(parameters["id"], "abc-d")
    }

    func testHeadAnswersThroughGetAndMethodNotAllowedListsMethods() {
        var router = Router<String>()
        router.add(.get, "/v1/whoami", "whoami")
        guard case .found = router.match(.head, path: "/v1/whoami") else { return XCTFail() }
        guard case .methodNotAllowed(let allowed, let pattern) = router.match(.delete, path: "/v1/whoami") else { return XCTFail() }
        XCTAssertEqual(pattern, "/v1/whoami")
        XCTAssertEqual(allowed, [.get, .head])
        guard case .notFound = router.match(.get, path: "/v1/whoami/") else { return XCTFail("trailing slash is another path") }
        guard case .notFound = router.match(.get, path: "/v1/nothing") else { return XCTFail() }
    }

    func testAPatternWithATrailingSlashMatchesOnlyThatPath() {
        var router = Router<String>()
        router.add(.get, "/console/", "overview")
        router.add(.get, "/console", "redirect")
        router.add(.get, "/console/log", "log")
        guard case .found("overview", "/console/", _) = router.match(.get, path: "/console/") else { return XCTFail() }
        guard case .found("redirect", "/console", _) = router.match(.get, path: "/console") else { return XCTFail() }
        guard case .found("overview", _, _) = router.match(.get, path: "/%63onsole/") else { return XCTFail("escaped, the slow path") }
        guard case .found("log", _, _) = router.match(.get, path: "/console/log") else { return XCTFail() }
        guard case .notFound = router.match(.get, path: "/console/log/") else { return XCTFail() }
        guard case .notFound = router.match(.get, path: "/console//") else { return XCTFail() }
    }
}
