import JSON
import TestSupport
import XCTest

/// Start-up, reload, drain and systemd notification of the built daemon.
final class LifecycleTests: XCTestCase {
    func testNotifiesReadyAndStoppingAndExitsZeroOnSIGTERM() throws {
        let refex = try RefexProcess()
        XCTAssertNotNil(refex.notify.wait(forLine: "READY=1", timeout: 1))
        refex.signal(SIGTERM)
        XCTAssertNotNil(refex.notify.wait(forLine: "STOPPING=1"))
        XCTAssertEqual(refex.waitForExit(), 0)
    }

    func testSIGTERMLetsARequestInProgressFinish() throws {
        let refex = try RefexProcess()
        let client = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "police") + [
            "pause",
            "--first", "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\n\\r\\n{",
            "--rest", "}",
        ])
        XCTAssertEqual(client.readLine(), "{\"sent\": \"first\"}")
        refex.signal(SIGTERM)
        XCTAssertNotNil(refex.notify.wait(forLine: "STOPPING=1"))
        // Draining: no new connections are accepted...
        let (refused, _) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        XCTAssertNotEqual(refused.status, 0)
        // ...but the request already under way is completed.
        client.writeLine("go")
        let line = try XCTUnwrap(client.readLine())
        let result = try JSONValue.parse(line)
        XCTAssertTrue(result["response"]?.stringValue?.hasPrefix("HTTP/1.1 200 OK") ?? false, line)
        XCTAssertTrue(result["response"]?.stringValue?.contains("Connection: close") ?? false, line)
        XCTAssertEqual(refex.waitForExit(), 0)
    }

    /// A kept-alive connection with its request answered and nothing in flight is closed as soon as
    /// SIGTERM arrives (not when the idle limit or the drain time runs out), and refex exits 0.
    func testSIGTERMClosesAnIdleKeptAliveConnectionAtOnceAndExitsZero() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "drainTimeoutSeconds": 20, "idleTimeoutSeconds": 60]]))
        let client = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "police") + [
            "--read-seconds", "30", "idle", "--data", "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n",
        ])
        let answered = try JSONValue.parse(try XCTUnwrap(client.readLine()))
        let response = answered["response"]?.stringValue ?? ""
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 200 OK"), response)
        XCTAssertFalse(response.contains("Connection: close"), "kept alive: \(response)")
        XCTAssertEqual(answered["closed"], false)

        let signalled = Date()
        refex.signal(SIGTERM)
        let line = try XCTUnwrap(client.readLine(timeout: 40), "the idle connection was not closed")
        let closedAfter = Date().timeIntervalSince(signalled)
        let idle = try JSONValue.parse(line)
        XCTAssertEqual(idle["closed"], true, line)
        XCTAssertEqual(idle["more"], "", "nothing is sent on an idle connection that is closed")
        XCTAssertLessThan(closedAfter, 5, "closed \(closedAfter) s after SIGTERM: the drain time (20 s) ran out instead")
        XCTAssertEqual(refex.waitForExit(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5, "refex waited for its idle connection")
    }

    func testSIGHUPAddsAPartnerWithoutRestart() throws {
        var config = try RefexProcess.config()
        let refex = try RefexProcess(config: config)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "unknown").response?.status, 403)

        var partners = config["partners"]?.arrayValue ?? []
        partners.append(["id": "newcomer", "name": "New partner", "roles": ["refer"], "certificates": [["sha256": .string(try TestPKI.fingerprint("unknown"))]]])
        config["partners"] = .array(partners)
        try refex.rewriteConfig(config)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded"), refex.logText)

        let (_, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "unknown")
        XCTAssertEqual(response?.json?["partner"]?.stringValue, "newcomer")
        XCTAssertEqual(refex.process.isRunning, true)
    }

    func testSIGHUPWithABrokenConfigKeepsTheOldOne() throws {
        let refex = try RefexProcess()
        try refex.rewriteConfig(text: "{ \"listen\": ")
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reload refused"), refex.logText)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status, 200)

        var config = try RefexProcess.config()
        config["surprise"] = true
        try refex.rewriteConfig(config)
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reload refused", count: 2), refex.logText)
        XCTAssertTrue(refex.waitForLog("surprise: unknown key"), refex.logText)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status, 200)
    }

    func testSIGHUPWithANewCRLRefusesTheRevokedCertificateFromTheNextHandshake() throws {
        var config = try RefexProcess.config()
        var tls = config["tls"]?.objectValue ?? [:]
        tls["crl"] = nil
        config["tls"] = .object(tls)
        let refex = try RefexProcess(config: config)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "revoked").response?.status, 200)

        try refex.rewriteConfig(try RefexProcess.config())
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded"), refex.logText)
        let (result, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "revoked")
        XCTAssertNil(response)
        XCTAssertNotEqual(result.status, 0)
    }

    func testSIGHUPWithANewCRLClosesTheRevokedCertificatesOpenConnections() throws {
        var config = try RefexProcess.config()
        var tls = config["tls"]?.objectValue ?? [:]
        tls["crl"] = nil
        config["tls"] = .object(tls)
        let refex = try RefexProcess(config: config)
        let whoami = "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"
        // One connection idle after an answer, one in the middle of sending a request: neither is served again.
        let idle = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "revoked") + [
            "--read-seconds", "3", "pause", "--first", whoami, "--rest", whoami,
        ])
        let busy = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "revoked") + [
            "--read-seconds", "3", "pause",
            "--first", "GET /v1/whoami HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\n\\r\\n{",
            "--rest", "}" + whoami,
        ])
        XCTAssertEqual(idle.readLine(), "{\"sent\": \"first\"}")
        XCTAssertEqual(busy.readLine(), "{\"sent\": \"first\"}")

        try refex.rewriteConfig(try RefexProcess.config())
        refex.signal(SIGHUP)
        XCTAssertTrue(refex.waitForLog("config reloaded"), refex.logText)
        XCTAssertTrue(refex.logText.contains("closed connections whose client certificate no longer verifies"), refex.logText)

        idle.writeLine("go")
        let idleResult = try JSONValue.parse(try XCTUnwrap(idle.readLine()))
        XCTAssertEqual(idleResult["response"]?.stringValue?.components(separatedBy: "HTTP/1.1 200 OK").count, 2, "only the answer before the reload")
        XCTAssertEqual(idleResult["closed"], true)

        busy.writeLine("go")
        let busyResult = try JSONValue.parse(try XCTUnwrap(busy.readLine()))
        let text = busyResult["response"]?.stringValue ?? ""
        XCTAssertFalse(text.contains("HTTP/1.1 200"), text)
        XCTAssertEqual(busyResult["closed"], true)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status, 200)
    }

    func testThousandIdleConnectionsDoNotKeepANewClientWaiting() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxConnections": 2000, "maxConnectionsPerPartner": 2000]]))
        let holder = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "police") + ["hold", "--count", "1000"])
        XCTAssertEqual(holder.readLine(timeout: 120), "{\"held\": 1000}")
        let started = Date()
        let (_, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(response?.status, 200)
        XCTAssertLessThan(elapsed, 2.0, "a new client waited \(elapsed) s behind 1,000 idle connections")
        let (_, metrics) = try Curl.request(["\(refex.opsURL)/metrics"], as: nil)
        XCTAssertTrue(metrics?.body.contains("refex_connections_open{listener=\"api\"} 1000") ?? false, metrics?.body ?? "")
        holder.writeLine("done")
        XCTAssertEqual(holder.readLine(), "{\"alive\": 1000}")
    }

    func testConnectionLimitAnswers503() throws {
        let refex = try RefexProcess(config: try RefexProcess.config(["limits": ["eventLoops": 2, "maxConnections": 3]]))
        let holder = try InteractiveProcess("python3", try PythonTLSClient.arguments(port: refex.apiPort, partner: "police") + ["hold", "--count", "3"])
        XCTAssertEqual(holder.readLine(), "{\"held\": 3}")
        let (_, response) = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        XCTAssertEqual(response?.status, 503)
        XCTAssertEqual(response?.header("retry-after"), "1")
        XCTAssertEqual(response?.json?["type"]?.stringValue, "urn:refex:problem:connection-limit")
        holder.terminate()
    }

    func testOpsListenerAnswersHealthReadinessAndMetrics() throws {
        let refex = try RefexProcess()
        _ = try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police")
        XCTAssertEqual(try Curl.request(["\(refex.opsURL)/healthz"], as: nil).response?.status, 200)
        XCTAssertEqual(try Curl.request(["\(refex.opsURL)/readyz"], as: nil).response?.json?["status"], "ready")
        let metrics = try XCTUnwrap(try Curl.request(["\(refex.opsURL)/metrics"], as: nil).response)
        XCTAssertTrue(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") ?? false)
        for family in ["refex_http_requests_total{listener=\"api\",route=\"/v1/whoami\",method=\"GET\",status=\"200\"} 1",
                       "refex_http_request_duration_seconds_bucket", "refex_connections_open", "refex_tls_handshake_failures_total"] {
            XCTAssertTrue(metrics.body.contains(family), "missing \(family)")
        }
        // Every ops answer carries what every partner answer does, a 404 and a 405 included.
        for (method, path) in [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/nothing"), ("DELETE", "/healthz")] {
            let response = try XCTUnwrap(try Curl.request(["-X", method, "\(refex.opsURL)\(path)"], as: nil).response, path)
            XCTAssertEqual(response.header("x-request-id")?.count, 16, "\(method) \(path)")
            XCTAssertEqual(response.header("cache-control"), "no-store", "\(method) \(path)")
            XCTAssertEqual(response.header("x-content-type-options"), "nosniff", "\(method) \(path)")
        }
    }

    func testInventedMethodsAndPathsDoNotBecomeMetricSeries() throws {
        let refex = try RefexProcess()
        for index in 0..<5 {
            _ = try Curl.request(["-X", "INVENTED\(index)", "\(refex.baseURL)/v1/whoami"], as: "police")
            _ = try Curl.request(["-X", "DELETE", "\(refex.opsURL)/made-up-\(index)"], as: nil)
        }
        let body = try XCTUnwrap(try Curl.request(["\(refex.opsURL)/metrics"], as: nil).response?.body)
        XCTAssertFalse(body.contains("INVENTED"), body)
        XCTAssertFalse(body.contains("made-up"), body)
        XCTAssertTrue(body.contains("refex_http_requests_total{listener=\"api\",route=\"/v1/whoami\",method=\"other\",status=\"405\"} 5"), body)
        XCTAssertTrue(body.contains("refex_http_requests_total{listener=\"ops\",route=\"unmatched\",method=\"DELETE\",status=\"405\"} 5"), body)
    }

    func testRequestLogLinesCarryIdsAndNoBodies() throws {
        let refex = try RefexProcess()
        let secret = "Jane Q. Witness"
        _ = try Curl.request(
            ["-X", "GET", "-H", "Content-Type: application/json", "-H", "X-Subject: \(secret)", "--data-binary", "{\"name\":\"\(secret)\"}", "\(refex.baseURL)/v1/whoami"],
            as: "police"
        )
        XCTAssertTrue(refex.waitForLog("route=/v1/whoami status=200"))
        let line = try XCTUnwrap(refex.logText.split(separator: "\n").first { $0.contains("route=/v1/whoami") })
        XCTAssertTrue(line.hasPrefix("<6>request "), String(line))
        XCTAssertTrue(line.contains("partner=police method=GET"), String(line))
        XCTAssertTrue(line.contains("duration_ms="), String(line))
        XCTAssertFalse(refex.logText.contains("Jane"), "personal data reached the log")
    }
}
