import Foundation
import JSON
import TestSupport
import XCTest

/// Several `refex serve` processes on one PostgreSQL (a throwaway cluster, one per class; a
/// database per test): one chain of the log whichever node appended, one referral however often
/// and wherever it is posted, deliveries finished by the survivor when a node dies, and a
/// database that goes away and comes back answered with 503 meanwhile, never a hang or a 500.
final class PostgresNodesTests: XCTestCase {
    nonisolated(unsafe) private static var cluster: PostgresCluster?

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    private static func postgres() throws -> PostgresCluster {
        if let cluster { return cluster }
        let started = try PostgresCluster()
        cluster = started
        return started
    }

    private let template = "\(ProjectPaths.root)/schemas/examples/referral-1-domestic-abuse.json"

    private func referral(_ reference: String, change: ((inout JSONObject) -> Void)? = nil) throws -> JSONValue {
        guard case .object(var object) = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: template)))) else { return .null }
        object["referenceId"] = .string(reference)
        change?(&object)
        return .object(object)
    }

    /// The same config for every node of one store, each with its own `nodeId`.
    private func nodeConfig(_ connection: String, node: String, sink: SinkProcess? = nil) throws -> JSONObject {
        var config = try RefexProcess.config()
        config["store"] = ["postgres": .string(connection), "nodeId": .string(node), "poolSize": 2]
        if let sink {
            config["recipients"] = .array(try RefexProcess.recipients(endpoint: sink.endpoint))
            // A claim's lease is timeoutSeconds + 15 s: short, so that a dead node's claims end soon.
            if case .object(var delivery)? = config["delivery"] {
                delivery["timeoutSeconds"] = 3
                config["delivery"] = .object(delivery)
            }
        }
        return config
    }

    private func twoNodes(sink: SinkProcess? = nil, database: String? = nil) throws -> (RefexProcess, RefexProcess, String) {
        let cluster = try Self.postgres()
        let connection = cluster.connectionString(database: try database ?? cluster.createDatabase())
        let a = try RefexProcess(config: try nodeConfig(connection, node: "node-a", sink: sink))
        let b = try RefexProcess(config: try nodeConfig(connection, node: "node-b", sink: sink))
        return (a, b, connection)
    }

    func testReferralsPostedToTwoNodesAreAllDurableOnOneChainThatVerifies() throws {
        let (a, b, _) = try twoNodes()
        var ids: [String] = []
        for index in 0..<20 {
            let node = index.isMultiple(of: 2) ? a : b
            let response = try node.request("POST", "/v1/referrals", try referral("TWO-NODES-\(index)"))
            XCTAssertEqual(response.status, 202, response.body)
            ids.append(try XCTUnwrap(response.json?["id"]?.stringValue))
        }
        // Each node reads what the other stored.
        for (index, id) in ids.enumerated() {
            let other = index.isMultiple(of: 2) ? b : a
            XCTAssertEqual(try other.request("GET", "/v1/referrals/\(id)").status, 200, id)
        }
        let verified = try a.host(["log", "verify", "--no-signatures"])
        XCTAssertTrue(verified.output.contains("entries"), verified.output)
        let received = try b.logEntries(event: "referral.received")
        XCTAssertEqual(Set(received.compactMap { $0["referralId"]?.stringValue }), Set(ids))
        // One chain: gapless seqs, each prevHash the entry before it, whichever node appended it.
        let all = try a.logEntries()
        for (previous, entry) in zip(all, all.dropFirst()) {
            XCTAssertEqual(entry["seq"]?.int64Value, (previous["seq"]?.int64Value ?? 0) + 1)
            XCTAssertEqual(entry["prevHash"], previous["hash"])
        }
        let verify = try a.request("GET", "/v1/disclosures/verify", as: "hub-admin")
        XCTAssertEqual(verify.status, 200, verify.body)
        XCTAssertEqual(verify.json?["valid"], true, verify.body)
    }

    func testTheSameReferralToBothNodesIsOneReferralAndAnotherBodyIsAConflict() throws {
        let (a, b, _) = try twoNodes()
        let first = try a.request("POST", "/v1/referrals", try referral("SAME-1"))
        XCTAssertEqual(first.status, 202, first.body)
        let again = try b.request("POST", "/v1/referrals", try referral("SAME-1"))
        XCTAssertEqual(again.status, 202, again.body)
        XCTAssertEqual(again.json?["id"], first.json?["id"], "the first answer again")
        XCTAssertEqual(again.json, first.json)
        let other = try b.request("POST", "/v1/referrals", try referral("SAME-1") { $0["riskOfHarm"] = "medium" })
        XCTAssertEqual(other.status, 409, other.body)
        XCTAssertEqual(try a.logCount(event: "referral.received"), 1)

        // Both at once, many times: still one referral each.
        let group = DispatchGroup()
        let answers = Mutex2<[String: Set<String>]>([:])
        for index in 0..<6 {
            let body = try referral("RACE-\(index)")
            for node in [a, b] {
                group.enter()
                DispatchQueue.global().async {
                    defer { group.leave() }
                    guard let response = try? node.request("POST", "/v1/referrals", body),
                          response.status == 202, let id = response.json?["id"]?.stringValue else { return }
                    answers.with { $0["RACE-\(index)", default: []].insert(id) }
                }
            }
        }
        group.wait()
        let found = answers.with { $0 }
        XCTAssertEqual(found.count, 6, "every post answered 202: \(found)")
        for (reference, ids) in found { XCTAssertEqual(ids.count, 1, "\(reference) stored once: \(ids)") }
    }

    func testWhenANodeIsKilledDuringADeliveryBurstTheOtherDeliversEverythingOnce() throws {
        let sink = try SinkProcess(options: ["--delay-ms", "150"])
        let (a, b, _) = try twoNodes(sink: sink)
        var expected: Set<String> = []
        for index in 0..<24 {
            let node = index.isMultiple(of: 2) ? a : b
            let response = try node.request("POST", "/v1/referrals", try referral("KILL-\(index)"))
            XCTAssertEqual(response.status, 202, response.body)
            for disclosure in response.json?["disclosures"]?.arrayValue ?? [] where disclosure["state"] == "queued" {
                if let id = disclosure["id"]?.stringValue, disclosure["recipient"] != "translation" { expected.insert(id) }
            }
        }
        XCTAssertFalse(expected.isEmpty)
        // Mid-burst: some delivered, most not.
        XCTAssertTrue(sink.wait(timeout: 60) { sink.files.filter { $0.hasSuffix(".json") }.count >= 2 })
        XCTAssertLessThan(sink.files.count, expected.count, "the burst was over before the kill")
        a.signal(SIGKILL)
        _ = a.waitForExit()

        // b delivers the rest, a's claims too once their leases end (timeoutSeconds + 15 s).
        XCTAssertTrue(sink.wait(timeout: 120) { Set(sink.files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }).isSuperset(of: expected) },
                      "delivered \(sink.files.count) of \(expected.count): \(b.logText.suffix(2000))")
        let delivered = Set(sink.files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
        XCTAssertEqual(delivered, expected, "nothing else delivered")
        let requests = sink.requests
        XCTAssertTrue(requests.allSatisfy { expected.contains($0.key) }, "every request under a disclosure's own key")
        var byKey: [String: Int] = [:]
        for request in requests { byKey[request.key, default: 0] += 1 }
        let repeated = byKey.filter { $0.value > 1 }
        XCTAssertLessThanOrEqual(repeated.count, 2, "only what a's lanes had in flight when it died is sent again: \(repeated)")
        XCTAssertTrue(waitUntil(timeout: 90) {
            (try? b.outboxItems())?.allSatisfy { $0["recipient"] == "translation" } ?? false
        }, "the push items leave the outbox (translation's are pull: they wait in its mailbox): \((try? b.outboxItems()) ?? [])")
        XCTAssertEqual(try b.logEntries(event: "disclosure.delivered").filter { expected.contains($0["disclosureId"]?.stringValue ?? "") }.count,
                       expected.count, "each delivered once in the log")
    }

    func testADatabaseStoppedUnderLoadIsA503AndRefexRecoversWithoutARestart() throws {
        let cluster = try Self.postgres()
        let connection = cluster.connectionString(database: try cluster.createDatabase())
        let refex = try RefexProcess(config: try nodeConfig(connection, node: "node-a"))
        let burst = try InteractiveProcess("python3", [
            "\(ProjectPaths.root)/Tests/scripts/burst.py", "--port", String(refex.apiPort), "--ca", try TestPKI.certificate("ca"),
            "--cert", try TestPKI.certificate("police"), "--key", try TestPKI.key("police"), "--template", template,
            "--count", "100000", "--concurrency", "4", "--prefix", "OUTAGE",
        ])
        defer { burst.terminate() }
        var acknowledged: [String] = []
        var refused: [JSONValue] = []
        var other: [JSONValue] = []
        func take(_ line: String) {
            guard let answer = try? JSONValue.parse(line) else { return }
            switch answer["status"]?.int64Value {
            case 202: if let id = answer["id"]?.stringValue { acknowledged.append(id) }
            case 503: refused.append(answer)
            default: other.append(answer)
            }
        }
        while acknowledged.count < 30, let line = burst.readLine(timeout: 60) { take(line) }
        XCTAssertGreaterThanOrEqual(acknowledged.count, 30)

        cluster.stopServer(mode: "immediate")
        let stoppedAt = Date()
        while refused.count < 20, Date().timeIntervalSince(stoppedAt) < 60, let line = burst.readLine(timeout: 60) { take(line) }
        XCTAssertGreaterThanOrEqual(refused.count, 20, "503s while the database is away")
        XCTAssertTrue(refused.allSatisfy { $0["retryAfter"] != nil }, "each 503 says when to retry")
        let ready = try Curl.request(["\(refex.opsURL)/readyz"], as: nil).response
        XCTAssertEqual(ready?.status, 503)
        XCTAssertTrue(ready?.body.contains("PostgreSQL") ?? false, ready?.body ?? "")
        XCTAssertFalse(ready?.body.contains("host=") ?? true, "the connection string is never shown")
        let problem = try refex.request("POST", "/v1/referrals", try referral("OUTAGE-PROBE"))
        XCTAssertEqual(problem.status, 503)
        XCTAssertEqual(problem.header("content-type"), "application/problem+json")
        XCTAssertNotNil(problem.header("retry-after"))

        try cluster.start()
        // Recovers by itself: a new referral is stored again, without a restart.
        XCTAssertTrue(waitUntil(timeout: 60) { (try? refex.request("POST", "/v1/referrals", try self.referral("OUTAGE-AFTER")).status) == 202 })
        let before = acknowledged.count
        while acknowledged.count < before + 30, let line = burst.readLine(timeout: 60) { take(line) }
        burst.terminate()
        XCTAssertGreaterThanOrEqual(acknowledged.count, before + 30, "the burst is stored again")
        XCTAssertTrue(refex.process.isRunning, "no restart")
        // Nothing but 202 and 503: never a 500, never a connection cut or a timeout (a hang).
        XCTAssertEqual(other.map { $0.serializedString() }, [], refex.logText.split(separator: "\n").filter { $0.contains("500") || $0.contains("error") }.prefix(8).joined(separator: "\n"))
        XCTAssertTrue(waitUntil(timeout: 30) { (try? Curl.request(["\(refex.opsURL)/readyz"], as: nil).response?.status) == 200 })
        // Every acknowledged referral is there.
        let statuses = try refex.referralReadStatuses(acknowledged)
        XCTAssertEqual(statuses.filter { $0.value != 200 }, [:], "acknowledged and lost")
        try refex.host(["log", "verify", "--no-signatures"])
    }
}

/// A value behind a lock, for collecting answers from several threads.
private final class Mutex2<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func with<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
