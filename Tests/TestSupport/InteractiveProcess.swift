import Foundation

/// A child process driven line by line: the test reads what it prints and answers on its stdin.
package final class InteractiveProcess: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var partial = ""
    private var ended = false

    package init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try Subprocess.resolve(executable))
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.standardError
        let handle = output.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                condition.lock()
                if data.isEmpty {
                    ended = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                partial += String(decoding: data, as: UTF8.self)
                while let newline = partial.firstIndex(of: "\n") {
                    lines.append(String(partial[..<newline]))
                    partial = String(partial[partial.index(after: newline)...])
                }
                condition.broadcast()
                condition.unlock()
            }
        }
        try process.run()
        thread.start()
    }

    /// The next line printed, waiting up to `timeout` seconds; nil on timeout or end of output.
    package func readLine(timeout: TimeInterval = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty {
            if ended { return nil }
            if !condition.wait(until: deadline) { return nil }
        }
        return lines.removeFirst()
    }

    package func writeLine(_ text: String) {
        input.fileHandleForWriting.write(Data((text + "\n").utf8))
    }

    package func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { terminate() }
}
