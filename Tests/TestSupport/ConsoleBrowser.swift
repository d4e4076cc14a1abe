import Foundation
import JSON

/// Headless Chromium driven by Selenium (`Tests/browser/console_browser.py`) against a started
/// `refex serve`, presenting a partner's client certificate from `TestPKI`. The script only
/// observes and prints one JSON result per step of the plan; the test decides what is right.
package enum ConsoleBrowser {
    package static var python: String { "\(ProjectPaths.root)/.dev/tools/venv/bin/python" }
    package static var script: String { "\(ProjectPaths.root)/Tests/browser/console_browser.py" }

    /// What the browser tests need beyond the build, or nil when everything is there.
    package static var missing: String? {
        let needed = [
            python: "scripts/test-tools.sh", "/usr/lib/chromium/chromium": "scripts/install-deps.sh test (chromium)",
            "/usr/bin/chromedriver": "scripts/install-deps.sh test (chromium-driver)",
            "/usr/bin/certutil": "scripts/install-deps.sh test (libnss3-tools)", "/usr/bin/pk12util": "scripts/install-deps.sh test (libnss3-tools)",
        ]
        let absent = needed.filter { !FileManager.default.isExecutableFile(atPath: $0.key) }
        if absent.isEmpty { return nil }
        return "missing \(absent.keys.sorted().joined(separator: ", ")): run \(Set(absent.values).sorted().joined(separator: " and ")) (make test does)"
    }

    /// Runs `plan` (steps as console_browser.py documents them) in a new browser presenting
    /// `partner`'s certificate to `refex`; one result per step. Throws when the browser could not be driven.
    package static func run(_ refex: RefexProcess, as partner: String, _ plan: [JSONValue], deadline: Int = 150) throws -> [JSONValue] {
        if let missing { throw SubprocessError(description: missing) }
        let planFolder = ProjectPaths.temporaryDirectory("refex-browser-plan")
        defer { try? FileManager.default.removeItem(atPath: planFolder) }
        let planFile = planFolder + "/plan.json"
        try Data(JSONValue.array(plan).serialized()).write(to: URL(fileURLWithPath: planFile))
        let result = try Subprocess.run(python, [
            script, "--base", refex.baseURL, "--ca", try TestPKI.certificate("ca"),
            "--cert", try TestPKI.certificate(partner), "--key", try TestPKI.key(partner),
            "--plan", planFile, "--deadline", String(deadline),
        ], timeout: TimeInterval(deadline + 30))
        guard result.status == 0, let results = (try? JSONValue.parse(result.output))?.arrayValue, results.count == plan.count else {
            throw SubprocessError(description: "console_browser.py exited \(result.status)\(result.timedOut ? " (killed: timed out)" : ""): \(result.errorOutput)\n\(result.output.prefix(2000))")
        }
        return results
    }

    /// The status code of the document a step ended on (nil when no document response was seen).
    package static func status(_ result: JSONValue) -> Int? {
        result["response"]?["status"]?.int64Value.map { Int($0) }
    }
}

extension ConsoleBrowser {
    /// A result as JSON text for a failure message (cut at `limit` characters).
    package static func show(_ value: JSONValue?, limit: Int = 3000) -> String {
        guard let value else { return "nil" }
        let text = value.serializedString()
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    package static func show(_ values: [JSONValue]) -> String { show(.array(values)) }
}
