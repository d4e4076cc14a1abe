import Foundation
import JSON
import TestSupport
import XCTest

/// The metrics a Prometheus user watches refex by, scraped from the running binary, and the
/// shipped alert rules, checked by promtool against those metrics.
final class MetricsTests: XCTestCase {
    /// `name{labels}` → value from one scrape.
    private func scrape(_ refex: RefexProcess) throws -> (samples: [String: Double], text: String) {
        let result = try Subprocess.run("curl", ["-sS", "--max-time", "10", "\(refex.opsURL)/metrics"])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        var samples: [String: Double] = [:]
        for line in result.output.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return (samples, result.output)
    }

    /// Scrapes until `condition` holds (the store's counts are read again after a scrape finds them stale).
    private func scrape(_ refex: RefexProcess, until condition: ([String: Double]) -> Bool, timeout: TimeInterval = 30) throws -> [String: Double] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Double] = [:]
        while Date() < deadline {
            last = try scrape(refex).samples
            if condition(last) { return last }
            usleep(100_000)  // between scrapes only: each one asks for fresh counts
        }
        XCTFail("the metrics never showed what was expected; last scrape:\n\(last.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "\n"))")
        return last
    }

    private func signingKey() throws -> String {
        let path = ProjectPaths.temporaryDirectory() + "/log-signing.key"
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["keys", "generate", path]).status, 0)
        return path
    }

    private func submit(_ refex: RefexProcess, reference: String) throws {
        let path = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return XCTFail("example") }
        object["referenceId"] = .string(reference)
        let file = ProjectPaths.temporaryDirectory() + "/r.json"
        try Data(JSONValue.object(object).serialized()).write(to: URL(fileURLWithPath: file))
        let (result, response) = try Curl.request(
            ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "\(refex.baseURL)/v1/referrals"], as: "police"
        )
        XCTAssertEqual(response?.status, 202, result.output)
    }

    func testReferralsDisclosuresLogCheckpointStoreAndCertificates() throws {
        var config = try RefexProcess.config()
        config["log"] = ["signingKey": .string(try signingKey()), "checkpointEveryEntries": 1]
        let refex = try RefexProcess(config: config)

        let before = try scrape(refex, until: { $0["refex_referrals_received_total"] != nil })
        XCTAssertEqual(before["refex_referrals_received_total"], 0)
        XCTAssertEqual(before["refex_store_writable"], 1)
        XCTAssertNil(before["refex_log_checkpoint_age_seconds"], "a checkpoint age before any checkpoint was signed")

        try submit(refex, reference: "METRICS-1")
        try submit(refex, reference: "METRICS-2")
        let after = try scrape(refex, until: { $0["refex_referrals_received_total"] == 2 && $0["refex_log_checkpoint_age_seconds"] != nil })
        // Two referrals asking for domestic abuse support, with consent in the example: queued to dv-support.
        let states = ["queued", "awaiting-consent", "refused", "cancelled", "delivered", "failed"]
        for state in states { XCTAssertNotNil(after["refex_disclosures{state=\"\(state)\"}"], "no refex_disclosures for \(state)") }
        let disclosures = states.compactMap { after["refex_disclosures{state=\"\($0)\"}"] }.reduce(0, +)
        XCTAssertGreaterThanOrEqual(disclosures, 2)
        let entries = try XCTUnwrap(after["refex_log_entries"])
        XCTAssertGreaterThanOrEqual(entries, 4, "two referrals log at least received and a decision each")
        XCTAssertLessThan(try XCTUnwrap(after["refex_log_checkpoint_age_seconds"]), 60)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(after["refex_log_checkpoint_age_seconds"]), 0)
        XCTAssertNotNil(after["refex_log_entries_unsigned"])

        // The dev PKI's CRL is valid for 30 days, its certificates for 397 (certs/dev-pki.sh).
        let day = 86_400.0
        XCTAssertEqual(try XCTUnwrap(after["refex_crl_next_update_seconds"]) / day, 30, accuracy: 1)
        XCTAssertEqual(try XCTUnwrap(after["refex_certificate_expiry_seconds{certificate=\"server\"}"]) / day, 397, accuracy: 2)
        XCTAssertEqual(try XCTUnwrap(after["refex_certificate_expiry_seconds{certificate=\"delivery-client\"}"]) / day, 397, accuracy: 2)
        // Partners appear once they connect: police did, partner-b did not.
        XCTAssertEqual(try XCTUnwrap(after["refex_partner_certificate_expiry_seconds{partner=\"police\"}"]) / day, 397, accuracy: 2)
        XCTAssertNil(after["refex_partner_certificate_expiry_seconds{partner=\"partner-b\"}"])

        let text = try scrape(refex).text
        XCTAssertTrue(text.contains("# TYPE refex_referrals_received_total counter"), text)
        XCTAssertTrue(text.contains("# TYPE refex_disclosures gauge"), text)
    }

    func testShippedAlertRulesPassPromtoolAndNameOnlyMetricsRefexExports() throws {
        let rules = "\(ProjectPaths.root)/contrib/prometheus/refex.rules.yml"
        let promtool = "\(ProjectPaths.root)/.dev/tools/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: promtool) else {
            return XCTFail("no \(promtool): run scripts/test-tools.sh (make test does)")
        }
        let checked = try Subprocess.run(promtool, ["check", "rules", rules], timeout: 60)
        XCTAssertEqual(checked.status, 0, checked.output + checked.errorOutput)
        XCTAssertTrue(checked.output.contains("SUCCESS"), checked.output)
        // And each alert fires on the series that should fire it (contrib/prometheus/refex.rules.test.yml).
        let tested = try Subprocess.run(promtool, ["test", "rules", "refex.rules.test.yml"], timeout: 60,
                                        currentDirectory: "\(ProjectPaths.root)/contrib/prometheus")
        XCTAssertEqual(tested.status, 0, tested.output + tested.errorOutput)

        // The check can fail: a rule with a broken expression is refused.
        let broken = ProjectPaths.temporaryDirectory("refex-rules") + "/broken.yml"
        let text = try String(contentsOfFile: rules, encoding: .utf8)
        try text.replacingOccurrences(of: "refex_store_writable == 0", with: "refex_store_writable == == 0")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try Subprocess.run(promtool, ["check", "rules", broken], timeout: 60).status, 0)

        // Every metric a rule names is one refex exports (a renamed metric would leave an alert that never fires).
        let refex = try RefexProcess()
        let exported = try scrape(refex).text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        let named = try NSRegularExpression(pattern: #"\brefex_[a-z_]+"#)
        let range = NSRange(text.startIndex..., in: text)
        let used = Set(named.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
        XCTAssertFalse(used.isEmpty)
        for metric in used {
            let base = metric.replacingOccurrences(of: "_bucket", with: "").replacingOccurrences(of: "_count", with: "")
            XCTAssertTrue(exported.contains(base), "contrib/prometheus/refex.rules.yml uses \(metric), which refex does not export")
        }
        // The kinds of trouble the issue names each have a rule.
        for alert in ["RefexRecipientFailing", "RefexCheckpointOld", "RefexCRLExpiresSoon", "RefexCertificateExpiresSoon",
                      "RefexPartnerCertificateExpiresSoon", "RefexStoreNotWritable"] {
            XCTAssertTrue(text.contains("alert: \(alert)"), "no alert \(alert)")
        }
    }
}
