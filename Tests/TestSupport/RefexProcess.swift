import Foundation
import JSON

/// `refex serve` started from the built binary with a config written for the test, on ports the
/// kernel picked, with a test `NOTIFY_SOCKET` to learn when it is ready.
package final class RefexProcess: @unchecked Sendable {
    package let folder: String
    package let configPath: String
    package let process: Process
    package let notify: NotifySocket
    package private(set) var apiPort: UInt16 = 0
    package private(set) var opsPort: UInt16 = 0
    private let log = LogCollector()

    /// A development config (the PKI from `TestPKI`, partners police, partner-b, hub-admin and sink)
    /// with `changes` merged over it, listening on 127.0.0.1 port 0.
    package static func config(_ changes: [String: JSONValue] = [:]) throws -> JSONObject {
        let pki = try TestPKI.folder()
        func partner(_ id: String, _ roles: [String], _ certificate: String) throws -> JSONValue {
            [
                "id": .string(id), "name": .string("Test \(id)"), "roles": .array(roles.map { .string($0) }),
                "certificates": [["sha256": .string(try TestPKI.fingerprint(certificate))]],
            ]
        }
        let state = ProjectPaths.temporaryDirectory("refex-state")
        var config: JSONObject = [
            "listen": "127.0.0.1:0",
            "ops": "127.0.0.1:0",
            "logLevel": "info",
            "schemas": .string("\(ProjectPaths.root)/schemas"),
            "store": ["path": .string("\(state)/refex.db")],
            "masterKey": .string(try TestPKI.masterKey()),
            "recipients": .array(try RefexProcess.recipients()),
            "delivery": [
                "clientCertificate": .string(try TestPKI.certificate("refex-client")), "clientKey": .string(try TestPKI.key("refex-client")),
                "backoffBaseMilliseconds": 200, "backoffMaxSeconds": 5, "pollIntervalMilliseconds": 100,
            ],
            "tls": [
                "certificate": .string("\(pki)/server.crt"), "privateKey": .string("\(pki)/server.key"),
                "clientCA": .string("\(pki)/ca.crt"), "crl": .string("\(pki)/crl.pem"),
            ],
            "limits": ["eventLoops": 2],
            "partners": [
                try partner("police", ["refer"], "police"),
                try partner("partner-b", ["refer"], "partner-b"),
                try partner("hub-admin", ["admin", "override"], "hub-admin"),
                try partner("sink", ["receive"], "sink"),
                try partner("revoked-partner", ["refer"], "revoked"),
                try partner("expired-partner", ["refer"], "expired"),
            ],
        ]
        for (key, value) in changes { config[key] = value }
        return config
    }

    /// The development recipients (see scripts/dev-setup.sh): dv-support (domestic abuse and sexual
    /// violence, health allowed), victim-support (no special categories), translation (pull, for partner sink).
    package static func recipients(endpoint: String = "https://localhost:9443/deliveries") throws -> [JSONValue] {
        let ca = try TestPKI.certificate("ca")
        return [
            [
                "id": "dv-support", "name": "DV service", "services": ["domestic-abuse", "sexual-violence"],
                "delivery": ["mode": "push", "endpoint": .string(endpoint), "ca": .string(ca)],
                "fields": ["/referenceId", "/subject/role", "/subject/name", "/subject/dateOfBirth", "/subject/contact", "/subject/language",
                           "/subject/vulnerabilities", "/subject/health", "/subject/religion", "/offence", "/supportNeeds", "/riskOfHarm"],
                "categories": ["health"],
            ],
            [
                "id": "victim-support", "name": "General support", "services": ["general-victim-support", "hate-crime", "fraud"],
                "delivery": ["mode": "push", "endpoint": .string(endpoint), "ca": .string(ca)],
                "fields": ["/referenceId", "/subject/name", "/subject/contact", "/subject/language", "/subject/health", "/subject/religion",
                           "/offence/category", "/offence/hateCrimeStrands", "/supportNeeds/*/service", "/riskOfHarm"],
                "categories": [],
            ],
            [
                "id": "translation", "name": "Translation", "services": ["translation"],
                "delivery": ["mode": "pull", "partner": "sink"],
                "fields": ["/referenceId", "/subject/name", "/subject/language", "/subject/contact/phone", "/subject/contact/email",
                           "/subject/contact/preferredMethod"],
                "categories": [],
            ],
        ]
    }

    /// The store file of this process's config.
    package var storePath: String {
        (try? JSONValue.parse(Array((FileManager.default.contents(atPath: configPath) ?? Data()))))?["store"]?["path"]?.stringValue ?? ""
    }

    /// Starts refex and waits for READY=1; throws with refex's stderr if it exits first.
    package init(config: JSONObject? = nil, environment: [String: String] = [:], readyTimeout: TimeInterval = 30) throws {
        folder = ProjectPaths.temporaryDirectory("refex-daemon")
        configPath = "\(folder)/refex.json"
        try RefexProcess.write(config ?? RefexProcess.config(), to: configPath)
        notify = try NotifySocket(folder: folder)
        process = Process()
        process.executableURL = URL(fileURLWithPath: ProjectPaths.refexBinary)
        process.arguments = ["serve", "--config", configPath]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        log.follow(errorPipe.fileHandleForReading)
        try process.run()
        guard let ready = waitForReady(timeout: readyTimeout) else {
            stop()
            throw SubprocessError(description: "refex did not become ready:\n\(log.text)")
        }
        for field in ready.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if field.hasPrefix("listen=") { apiPort = RefexProcess.port(field) }
            if field.hasPrefix("ops=") { opsPort = RefexProcess.port(field) }
        }
    }

    private func waitForReady(timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let message = notify.wait(forLine: "READY=1", timeout: 0.2) { return message }
            if !process.isRunning { return nil }
        }
        return nil
    }

    private static func port(_ field: Substring) -> UInt16 {
        UInt16(field.split(separator: ":").last ?? "") ?? 0
    }

    package static func write(_ config: JSONObject, to path: String) throws {
        try Data(JSONValue.object(config).prettyPrinted().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Rewrites the config file (for SIGHUP tests).
    package func rewriteConfig(_ config: JSONObject) throws { try RefexProcess.write(config, to: configPath) }

    package func rewriteConfig(text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: configPath), options: .atomic)
    }

    package func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit; its status, or nil on timeout.
    package func waitForExit(timeout: TimeInterval = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(10_000)
        }
        return process.terminationStatus
    }

    /// Everything refex wrote to stderr so far.
    package var logText: String { log.text }

    /// Waits until refex's stderr has a line containing `text`; false on timeout.
    package func waitForLog(_ text: String, count: Int = 1, timeout: TimeInterval = 20) -> Bool {
        log.wait(for: text, count: count, timeout: timeout)
    }

    /// `https://localhost:PORT`.
    package var baseURL: String { "https://localhost:\(apiPort)" }
    package var opsURL: String { "http://127.0.0.1:\(opsPort)" }

    package func stop() {
        if process.isRunning {
            signal(SIGKILL)
            _ = waitForExit(timeout: 10)
        }
        notify.close()
    }

    deinit { stop() }
}

/// Collects a child's stderr lines, with waiting for a line.
private final class LogCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer = ""

    func follow(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                condition.lock()
                buffer += String(decoding: data, as: UTF8.self)
                condition.broadcast()
                condition.unlock()
            }
        }
        thread.start()
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return buffer
    }

    func wait(for text: String, count: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while buffer.components(separatedBy: text).count - 1 < count {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }
}
