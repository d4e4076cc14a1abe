import Foundation

/// The outcome of running a command to completion.
package struct SubprocessResult: Sendable {
    package var status: Int32
    package var stdout: Data
    package var stderr: Data
    package var timedOut: Bool

    package var output: String { String(decoding: stdout, as: UTF8.self) }
    package var errorOutput: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs real programs (curl, openssl, python3, refex) as a test's peers.
package enum Subprocess {
    /// Runs `executable` with `arguments`; kills it after `timeout` seconds.
    @discardableResult
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Data? = nil, timeout: TimeInterval = 30, currentDirectory: String? = nil
    ) throws -> SubprocessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(executable))
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            collected.setOut(out.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            collected.setErr(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try? stdin.fileHandleForWriting.close()
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
        }
        group.wait()
        return SubprocessResult(status: process.terminationStatus, stdout: collected.out, stderr: collected.err, timedOut: timedOut)
    }

    /// An absolute path for `name`, searching PATH.
    package static func resolve(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SubprocessError(description: "\(name) is not installed (make test installs it)")
    }
}

package struct SubprocessError: Error, CustomStringConvertible {
    package var description: String
    package init(description: String) { self.description = description }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var _out = Data()
    private var _err = Data()
    func setOut(_ data: Data) { lock.withLock { _out = data } }
    func setErr(_ data: Data) { lock.withLock { _err = data } }
    var out: Data { lock.withLock { _out } }
    var err: Data { lock.withLock { _err } }
}
