import Foundation
import JSON
import TestSupport
import XCTest

/// The console in a real browser (issue 16): Debian's headless Chromium, driven by Selenium
/// (Tests/browser/console_browser.py), presenting a partner's client certificate from an NSS
/// database to a started `refex serve`.
final class ConsoleBrowserTests: XCTestCase {
    /// The harness itself: the certificate in the browser's NSS database is the one refex sees.
    func testTheBrowserPresentsThePartnersCertificate() throws {
        let refex = try RefexProcess()
        defer { refex.stop() }
        for partner in ["hub-admin", "police"] {
            let results = try ConsoleBrowser.run(refex, as: partner, [["op": "visit", "path": "/v1/whoami"]])
            XCTAssertEqual(ConsoleBrowser.status(results[0]), 200, "\(results[0])")
            let text = results[0]["text"]?.stringValue ?? ""
            let whoami = try? JSONValue.parse(text)
            XCTAssertEqual(whoami?["partner"]?.stringValue, partner, text)
        }
    }
}
