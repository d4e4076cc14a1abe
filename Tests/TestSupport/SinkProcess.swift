import Foundation
import JSON

/// `refex sink` started from the built binary as a test's recipient, on a port the kernel picked
/// (or a given one), writing into its own folder.
package final class SinkProcess: @unchecked Sendable {
    package let folder: String
    package let process: Process
    package private(set) var port: UInt16 = 0

    /// `options` are extra `refex sink` flags, e.g. `["--fail-first", "2"]`.
    package init(host: String = "127.0.0.1", port: UInt16 = 0, options: [String] = [], folder: String? = nil) throws {
        self.folder = folder ?? ProjectPaths.temporaryDirectory("refex-sink")
        process = Process()
        process.executableURL = URL(fileURLWithPath: ProjectPaths.refexBinary)
        process.arguments = [
            "sink", "--listen", "\(host):\(port)", "--cert", try TestPKI.certificate("sink-server"), "--key", try TestPKI.key("sink-server"),
            "--client-ca", try TestPKI.certificate("ca"), "--dir", self.folder,
        ] + options
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // The first line says where it listens, once it does.
        let line = SinkProcess.readLine(output.fileHandleForReading)
        guard let line, line.hasPrefix("listening "), let bound = UInt16(line.split(separator: ":").last ?? "") else {
            process.terminate()
            throw SubprocessError(description: "refex sink did not start: \(line ?? "no output")")
        }
        self.port = bound
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if first == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
    }

    /// `https://localhost:PORT/deliveries`.
    package var endpoint: String { "https://localhost:\(port)/deliveries" }

    /// Files written, by name (without requests.log).
    package var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    package func document(_ name: String) throws -> JSONValue {
        try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))))
    }

    /// Every request so far: (number, time in ms, idempotency key, status answered).
    package var requests: [(number: Int, time: Int64, key: String, status: Int)] {
        guard let text = try? String(contentsOfFile: "\(folder)/requests.log", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, let number = Int(parts[0]), let time = Int64(parts[1]), let status = Int(parts[3]) else { return nil }
            return (number, time, String(parts[2]), status)
        }
    }

    /// Waits until `condition` holds, checking every 50 ms, up to `timeout` seconds.
    package func wait(timeout: TimeInterval = 20, until condition: () -> Bool) -> Bool {
        waitUntil(timeout: timeout, condition)
    }

    package func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Waits until `condition` holds, checking every 50 ms, up to `timeout` seconds.
package func waitUntil(timeout: TimeInterval = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
