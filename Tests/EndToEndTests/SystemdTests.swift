import JSON
import TestSupport
import XCTest

/// refex as a systemd service: the units pass review and verification, `make install` lays them
/// out, socket activation, credentials, and a watchdog that stops when the writer stalls.
final class SystemdTests: XCTestCase {
    private var units: String { "\(ProjectPaths.root)/systemd" }
    private var activator: String { "\(ProjectPaths.root)/Tests/scripts/socket_activate.py" }

    /// `make install` with `variables`; the folder it installed into.
    private func makeInstall(_ variables: [String]) throws -> SubprocessResult {
        try Subprocess.run(
            "make", ["-C", ProjectPaths.root, "--no-print-directory", "install", "BINARY=\(ProjectPaths.refexBinary)"] + variables, timeout: 120
        )
    }

    /// `KEY=value` settings of a unit file, in order (comments and sections left out).
    private func settings(_ path: String) throws -> [(key: String, value: String)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    // MARK: The units

    func testServiceExposureIsAtMostOnePointFive() throws {
        let result = try Subprocess.run("systemd-analyze", ["security", "--offline=yes", "--no-pager", "\(units)/refex.service"])
        // "→ Overall exposure level for refex.service: 1.1 OK 🙂"
        let line = try XCTUnwrap(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, result.output + result.errorOutput)
        let number = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        let exposure = try XCTUnwrap(number, String(line))
        XCTAssertLessThanOrEqual(exposure, 1.5, result.output)
    }

    func testServiceHasWhatTheIssueAsksFor() throws {
        let service = try settings("\(units)/refex.service")
        func values(_ key: String) -> [String] { service.filter { $0.key == key }.map(\.value) }
        for (key, value) in [
            ("Type", "notify"), ("Restart", "on-failure"), ("ExecReload", "/bin/kill -HUP $MAINPID"), ("User", "refex"),
            ("StateDirectory", "refex"), ("ConfigurationDirectory", "refex"), ("UMask", "0077"), ("SyslogIdentifier", "refex"),
            ("SyslogLevelPrefix", "true"), ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""), ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("PrivateDevices", "yes"), ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
            ("SystemCallFilter", "@system-service"), ("MemoryDenyWriteExecute", "yes"), ("LockPersonality", "yes"),
            ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"), ("ProtectKernelLogs", "yes"), ("ProtectControlGroups", "yes"),
            ("RestrictNamespaces", "yes"), ("RestrictRealtime", "yes"), ("RestrictSUIDSGID", "yes"), ("SystemCallArchitectures", "native"),
            ("ProtectClock", "yes"), ("ProtectHostname", "yes"), ("ProtectProc", "invisible"),
        ] {
            XCTAssertTrue(values(key).contains(value), "refex.service: \(key)=\(value) missing (has \(values(key)))")
        }
        XCTAssertFalse(values("WatchdogSec").isEmpty)
        // SIGTERM's ordered stop must fit before systemd's SIGKILL: the default drain (15 s), the
        // wait for delivery attempts (10 s) and the store's close (10 s).
        let stopSeconds = values("TimeoutStopSec").first.flatMap { Int($0.replacingOccurrences(of: "s", with: "")) } ?? 0
        XCTAssertGreaterThan(stopSeconds, 15 + 10 + 10, "TimeoutStopSec=\(values("TimeoutStopSec"))")
        XCTAssertTrue(values("ExecStartPre").contains { $0.hasSuffix("refex config check --config /etc/refex/refex.json") })
        XCTAssertEqual(Set(values("LoadCredential").map { String($0.split(separator: ":")[0]) }), ["master-key", "tls-key", "delivery-key", "log-signing-key"])

        let sysusers = try String(contentsOfFile: "\(units)/refex.sysusers", encoding: .utf8)
        XCTAssertTrue(sysusers.split(separator: "\n").contains { $0.hasPrefix("u refex ") }, "refex.sysusers makes no refex user")
        let api = try settings("\(units)/refex.socket")
        XCTAssertTrue(api.contains { $0 == ("FileDescriptorName", "api") })
        let ops = try settings("\(units)/refex-ops.socket")
        XCTAssertTrue(ops.contains { $0 == ("FileDescriptorName", "ops") })
        XCTAssertTrue(ops.contains { $0.key == "ListenStream" && $0.value.hasPrefix("127.0.0.1:") }, "the ops socket must be on loopback")
    }

    func testInstalledUnitsVerifyClean() throws {
        // Installed under a prefix rather than a DESTDIR, so that every path they name exists here.
        let prefix = ProjectPaths.temporaryDirectory("refex-prefix")
        let installed = try makeInstall(["PREFIX=\(prefix)/usr", "SYSCONFDIR=\(prefix)/etc", "DESTDIR="])
        XCTAssertEqual(installed.status, 0, installed.errorOutput)
        let unitFolder = "\(prefix)/usr/lib/systemd/system"
        XCTAssertTrue(try String(contentsOfFile: "\(unitFolder)/refex.service", encoding: .utf8).contains("ExecStart=\(prefix)/usr/bin/refex serve"))
        let result = try Subprocess.run("systemd-analyze", ["verify", "\(unitFolder)/refex.service", "\(unitFolder)/refex.socket", "\(unitFolder)/refex-ops.socket"])
        XCTAssertEqual(result.status, 0, result.output + result.errorOutput)
        let complaints = (result.output + result.errorOutput).split(separator: "\n").filter { $0.contains("refex") }
        XCTAssertEqual(complaints, [], "systemd-analyze verify:\n\(complaints.joined(separator: "\n"))")

        // And it catches a broken unit: the check can fail.
        let broken = "\(prefix)/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: "\(unitFolder)/refex.service", encoding: .utf8)
        try text.replacingOccurrences(of: "\(prefix)/usr/bin/refex serve", with: "\(prefix)/usr/bin/nothing serve")
            .write(toFile: "\(broken)/refex.service", atomically: true, encoding: .utf8)
        let failed = try Subprocess.run("systemd-analyze", ["verify", "\(broken)/refex.service", "\(unitFolder)/refex.socket", "\(unitFolder)/refex-ops.socket"])
        XCTAssertNotEqual(failed.status, 0)
    }

    // MARK: make install

    func testMakeInstallLaysOutTheFilesUnderDESTDIR() throws {
        let stage = ProjectPaths.temporaryDirectory("refex-stage")
        let result = try makeInstall(["DESTDIR=\(stage)", "PREFIX=/usr", "SYSCONFDIR=/etc"])
        XCTAssertEqual(result.status, 0, result.errorOutput)

        let expected: [String: Int] = [
            "usr/bin/refex": 0o755,
            "usr/share/refex/schemas/config.v1.schema.json": 0o644, "usr/share/refex/schemas/consent.v1.schema.json": 0o644,
            "usr/share/refex/schemas/override.v1.schema.json": 0o644, "usr/share/refex/schemas/referral.v1.schema.json": 0o644,
            "usr/share/refex/schemas/openapi.v1.json": 0o644, "usr/share/doc/refex/prometheus/refex.rules.yml": 0o644,
            "usr/share/doc/refex/README.md": 0o644,
            "usr/lib/systemd/system/refex.service": 0o644, "usr/lib/systemd/system/refex.socket": 0o644,
            "usr/lib/systemd/system/refex-ops.socket": 0o644,
            "usr/lib/sysusers.d/refex.conf": 0o644, "usr/lib/tmpfiles.d/refex.conf": 0o644,
            "etc/refex/refex.json": 0o640,
        ]
        var found: [String: Int] = [:]
        let enumerator = FileManager.default.enumerator(atPath: stage)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(stage)/\(relative)", isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(stage)/\(relative)")
            found[relative] = (attributes[.posixPermissions] as? Int) ?? -1
        }
        XCTAssertEqual(found, expected)

        // The staging folder never leaks into what was installed.
        for relative in expected.keys where !relative.hasSuffix("bin/refex") {
            let text = try String(contentsOfFile: "\(stage)/\(relative)", encoding: .utf8)
            XCTAssertFalse(text.contains(stage), "\(relative) names the staging folder")
        }
        let service = try settings("\(stage)/usr/lib/systemd/system/refex.service")
        XCTAssertTrue(service.contains { $0 == ("ExecStart", "/usr/bin/refex serve --config /etc/refex/refex.json") })

        let refex = "\(stage)/usr/bin/refex"
        XCTAssertEqual(try Subprocess.run(refex, ["version"]).output.trimmingCharacters(in: .whitespacesAndNewlines), "refex 0.1.0")

        // The example config follows the installed schema...
        let example = "\(stage)/etc/refex/refex.json"
        let validated = try Subprocess.run(refex, [
            "schema", "validate", "--schema", "\(stage)/usr/share/refex/schemas/config.v1.schema.json",
            "--schema-dir", "\(stage)/usr/share/refex/schemas", example,
        ])
        XCTAssertEqual(validated.status, 0, validated.output + validated.errorOutput)
        // ...and passes `config check` once the files it names exist (here under the staging folder).
        let pki = try TestPKI.folder()
        // The example maps a partner by subject and issuer: the issuer must be a client CA certificate.
        let partnersCA = try TestCA.root(subject: "/O=Example Exchange/CN=Example Partner CA")
        for (source, target) in [
            ("\(pki)/server.crt", "etc/refex/tls/server.crt"), (partnersCA.certificate, "etc/refex/tls/partners-ca.crt"),
            ("\(pki)/refex-client.crt", "etc/refex/tls/refex-client.crt"), ("\(pki)/ca.crt", "etc/refex/tls/dv-support-ca.crt"),
            (try TestPKI.masterKey(), "etc/credstore/refex.master-key"), ("\(pki)/server.key", "etc/credstore/refex.tls-key"),
            ("\(pki)/refex-client.key", "etc/credstore/refex.delivery-key"),
        ] {
            let path = "\(stage)/\(target)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source, toPath: path)
        }
        let signingKey = try Subprocess.run(refex, ["keys", "generate", "\(stage)/etc/credstore/refex.log-signing-key"])
        XCTAssertEqual(signingKey.status, 0, signingKey.errorOutput)
        try FileManager.default.createDirectory(atPath: "\(stage)/var/lib/refex", withIntermediateDirectories: true)
        var text = try String(contentsOfFile: example, encoding: .utf8)
        for root in ["/etc/", "/var/lib/", "/usr/share/"] { text = text.replacingOccurrences(of: "\"\(root)", with: "\"\(stage)\(root)") }
        let staged = "\(stage)/staged-refex.json"
        try text.write(toFile: staged, atomically: true, encoding: .utf8)
        let checked = try Subprocess.run(refex, ["config", "check", "--config", staged])
        XCTAssertEqual(checked.status, 0, checked.errorOutput)

        // Installing again keeps the administrator's config.
        try Data("{\"edited\": true}".utf8).write(to: URL(fileURLWithPath: example))
        XCTAssertEqual(try makeInstall(["DESTDIR=\(stage)", "PREFIX=/usr", "SYSCONFDIR=/etc"]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: example, encoding: .utf8), "{\"edited\": true}")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(example).new"))
    }

    func testHelpServeCoversEveryCredentialFileAndVariable() throws {
        let help = try Subprocess.run(ProjectPaths.refexBinary, ["help", "serve"])
        XCTAssertEqual(help.status, 0)
        let service = try settings("\(units)/refex.service")
        var expected = ["--config", "/etc/refex/refex.json", "/var/lib/refex/refex.db", "/var/lib/refex/refex-keys.db", "/usr/share/refex/schemas",
                        "NOTIFY_SOCKET", "WATCHDOG_USEC", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY",
                        "SIGHUP", "SIGTERM", "SIGUSR2", "refex.socket", "refex-ops.socket", "sysusers.d", "tmpfiles.d"]
        for credential in service.filter({ $0.key == "LoadCredential" }).map(\.value) {
            let parts = credential.split(separator: ":")
            expected.append(String(parts[0]))
            expected.append("/etc/credstore/\(parts[1])")
        }
        let text = help.output.replacingOccurrences(of: "$PREFIX", with: "/usr")
        for item in expected {
            XCTAssertTrue(text.contains(item), "refex help serve does not mention \(item)")
        }
        XCTAssertEqual(try Subprocess.run(ProjectPaths.refexBinary, ["help", "frobnicate"]).status, 2)
    }

    // MARK: Socket activation

    func testServesOnTheSocketsPassedByName() throws {
        let ports = ProjectPaths.temporaryDirectory() + "/ports.json"
        // ops first: the names, not the order, decide which socket is which.
        let refex = try RefexProcess(launcher: [
            "python3", activator, "--listen", "ops=127.0.0.1:0", "--listen", "api=127.0.0.1:0", "--ports", ports, "--",
        ])
        let passed = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: ports))))
        XCTAssertEqual(passed["api"]?.int64Value, Int64(refex.apiPort))
        XCTAssertEqual(passed["ops"]?.int64Value, Int64(refex.opsPort))
        XCTAssertTrue(refex.waitForLog("sockets=\"api:systemd ops:systemd\""), refex.logText)
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.json?["partner"], "police")
        XCTAssertEqual(try Curl.request(["\(refex.opsURL)/healthz"], as: nil).response?.status, 200)
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0)
    }

    func testTheFirstConnectionWakesItUnderSystemdSocketActivate() throws {
        let port = try freePort()
        // systemd-socket-activate listens, waits for a connection, then execs refex with the socket
        // (one, unnamed): that first connection waits in the backlog and is served. curl starts
        // first (retrying while nothing listens yet), so that the two programs start one after the other.
        let curl = try InteractiveProcess("curl", [
            "-sS", "--max-time", "60", "--retry", "30", "--retry-connrefused", "--retry-delay", "1",
            "--cacert", try TestPKI.certificate("ca"), "--cert", try TestPKI.certificate("police"), "--key", try TestPKI.key("police"),
            "-o", "/dev/null", "-w", "%{http_code}\\n", "https://localhost:\(port)/v1/whoami",
        ])
        // systemd-socket-activate closes the descriptors it did not open, which Foundation's Process
        // takes for the end of the child: supervise.py holds them for it.
        let refex = try RefexProcess(launcher: [
            "python3", "\(ProjectPaths.root)/Tests/scripts/supervise.py", "systemd-socket-activate", "--listen", "127.0.0.1:\(port)",
            "-E", "NOTIFY_SOCKET",
        ])
        XCTAssertEqual(curl.readLine(timeout: 90), "200", refex.logText)
        XCTAssertEqual(refex.apiPort, port)
        XCTAssertTrue(refex.waitForLog("sockets=\"api:systemd ops:bound\""), refex.logText)
        XCTAssertEqual(try Curl.request(["\(refex.opsURL)/healthz"], as: nil).response?.status, 200)
        refex.signal(SIGTERM)
        XCTAssertEqual(refex.waitForExit(), 0, refex.logText)
    }

    func testSocketsMeantForAnotherProcessAreLeftAlone() throws {
        let ports = ProjectPaths.temporaryDirectory() + "/ports.json"
        let refex = try RefexProcess(launcher: ["python3", activator, "--listen", "api=127.0.0.1:0", "--wrong-pid", "--ports", ports, "--"])
        let passed = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: ports))))
        XCTAssertNotEqual(passed["api"]?.int64Value, Int64(refex.apiPort))
        XCTAssertTrue(refex.waitForLog("sockets=\"api:bound ops:bound\""), refex.logText)
    }

    func testWrongPassedSocketsAreRefusedInOneLine() throws {
        let config = ProjectPaths.temporaryDirectory() + "/refex.json"
        try RefexProcess.write(try RefexProcess.config(), to: config)
        for (options, expected) in [
            (["--listen", "api=127.0.0.1:0", "--not-listening", "api"], "the socket systemd passed as api (descriptor 3) is not a listening TCP socket"),
            (["--listen", "api=127.0.0.1:0", "--listen", "ops=0.0.0.0:0"], "the socket systemd passed as ops listens on 0.0.0.0:"),
            (["--listen", "a=127.0.0.1:0", "--listen", "b=127.0.0.1:0", "--unnamed"], "systemd passed 2 sockets without the names api and ops"),
            (["--listen", "api=127.0.0.1:0", "--listen", "metrics=127.0.0.1:0"], "systemd passed a socket named 'metrics' (descriptor 4)"),
        ] {
            let result = try Subprocess.run("python3", [activator] + options + ["--", ProjectPaths.refexBinary, "serve", "--config", config], timeout: 30)
            XCTAssertEqual(result.status, 1, result.errorOutput)
            let lines = result.errorOutput.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.errorOutput)
            XCTAssertTrue(result.errorOutput.contains(expected), "expected '\(expected)' in: \(result.errorOutput)")
        }
    }

    // MARK: Credentials

    func testKeysComeFromTheCredentialsDirectory() throws {
        let pki = try TestPKI.folder()
        let credentials = ProjectPaths.temporaryDirectory("refex-credentials")
        for (name, source) in [("master-key", try TestPKI.masterKey()), ("tls-key", "\(pki)/server.key"), ("delivery-key", "\(pki)/refex-client.key")] {
            try FileManager.default.copyItem(atPath: source, toPath: "\(credentials)/\(name)")
            chmod("\(credentials)/\(name)", 0o400)
        }
        // The config's own paths lead nowhere: only the credentials can make this config work.
        var config = try RefexProcess.config()
        config["masterKey"] = "/nonexistent/master.key"
        var tls = try XCTUnwrap(config["tls"]?.objectValue)
        tls["privateKey"] = "/nonexistent/server.key"
        config["tls"] = .object(tls)
        var delivery = try XCTUnwrap(config["delivery"]?.objectValue)
        delivery["clientKey"] = "/nonexistent/client.key"
        config["delivery"] = .object(delivery)

        let path = ProjectPaths.temporaryDirectory() + "/refex.json"
        try RefexProcess.write(config, to: path)
        let without = try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path], environment: ["CREDENTIALS_DIRECTORY": ""])
        XCTAssertEqual(without.status, 1)
        for key in ["masterKey: cannot read /nonexistent/master.key", "tls.privateKey: cannot read /nonexistent/server.key",
                    "delivery.clientKey: cannot read /nonexistent/client.key"] {
            XCTAssertTrue(without.errorOutput.contains(key), without.errorOutput)
        }
        let checked = try Subprocess.run(ProjectPaths.refexBinary, ["config", "check", "--config", path], environment: ["CREDENTIALS_DIRECTORY": credentials])
        XCTAssertEqual(checked.status, 0, checked.errorOutput)

        let refex = try RefexProcess(config: config, environment: ["CREDENTIALS_DIRECTORY": credentials])
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status, 200)
    }

    // MARK: Watchdog

    func testWatchdogPingsStopWhileTheStoreWriterIsStalled() throws {
        // A ping every second, each sent only if the loops and the writer answer within half of that.
        let refex = try RefexProcess(environment: ["WATCHDOG_USEC": "2000000", "REFEX_TEST_HOOKS": "1"])
        XCTAssertTrue(refex.notify.wait(forCount: 2, ofLine: "WATCHDOG=1", timeout: 20), "no pings while healthy")
        XCTAssertTrue(refex.logText.contains("test hooks are on"))

        refex.signal(SIGUSR2)
        XCTAssertTrue(refex.waitForLog("test hook: store writer stalled"), refex.logText)
        XCTAssertTrue(refex.waitForLog("withholding the watchdog ping stalled=store-writer", count: 2), refex.logText)
        // A ping sent just before the stall may still be on its way at the first withheld one; by the second it is in.
        let pingsWhileStalled = refex.notify.count(ofLine: "WATCHDOG=1")
        XCTAssertTrue(refex.waitForLog("withholding the watchdog ping", count: 4), refex.logText)
        XCTAssertEqual(refex.notify.count(ofLine: "WATCHDOG=1"), pingsWhileStalled, "pinged while the writer was stalled")

        refex.signal(SIGUSR2)
        XCTAssertTrue(refex.waitForLog("test hook: store writer resumed"), refex.logText)
        XCTAssertTrue(refex.notify.wait(forCount: pingsWhileStalled + 2, ofLine: "WATCHDOG=1", timeout: 20), "pings did not resume")
        XCTAssertEqual(try Curl.request(["\(refex.baseURL)/v1/whoami"], as: "police").response?.status, 200)
    }

    func testTheStallHookDoesNotExistWithoutTestHooks() throws {
        let refex = try RefexProcess(environment: ["WATCHDOG_USEC": "2000000"])
        XCTAssertTrue(refex.notify.wait(forCount: 2, ofLine: "WATCHDOG=1", timeout: 20))
        XCTAssertFalse(refex.logText.contains("test hooks are on"))
        // Not taken, so its default action ends the process: nothing in refex listens for it.
        refex.signal(SIGUSR2)
        XCTAssertNotNil(refex.waitForExit())
        XCTAssertEqual(refex.process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(refex.process.terminationStatus, SIGUSR2)
        XCTAssertFalse(refex.logText.contains("stalled"), refex.logText)
        XCTAssertFalse(refex.logText.contains("withholding"), refex.logText)
    }

    func testTheWatchdogAbortGetsABacktraceAndIsNotSwallowedBySignalHandling() throws {
        // On a missed ping systemd sends SIGABRT. The Swift runtime's crash handler then pauses every
        // thread with SIGUSR1 (or SIGUSR2 or SIGPROF, whichever it does not block) to take its
        // backtrace: refex's signal thread must not take those as its own, even with test hooks on.
        let refex = try RefexProcess(environment: ["REFEX_TEST_HOOKS": "1", "SWIFT_BACKTRACE": "enable=yes,interactive=no,color=no"])
        refex.signal(SIGABRT)
        XCTAssertTrue(refex.waitForLog("Backtrace took", timeout: 30), refex.logText)
        XCTAssertFalse(refex.logText.contains("test hook: store writer"), refex.logText)
    }

    // MARK: Helpers

    /// A TCP port nobody listens on right now.
    private func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SubprocessError(description: "cannot find a free port: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}
