import Foundation
import Timekeeping

/// A structured logger, shaped like swift-log: a value passed in, never created by a library.
///
/// Each line carries a message and ordered `key=value` metadata. Callers pass ids only:
/// operational logs never carry personal data, request bodies or header values.
package struct Logger: Sendable {
    /// Syslog priorities, so that journald reads the level from the `<N>` prefix.
    package enum Level: Int, Sendable, Comparable, CaseIterable {
        case critical = 2
        case error = 3
        case warning = 4
        case notice = 5
        case info = 6
        case debug = 7

        package static func < (lhs: Level, rhs: Level) -> Bool {
            // A lower syslog number is more severe; "less than" means "less severe".
            lhs.rawValue > rhs.rawValue
        }

        package init?(name: String) {
            switch name.lowercased() {
            case "critical": self = .critical
            case "error": self = .error
            case "warning": self = .warning
            case "notice": self = .notice
            case "info": self = .info
            case "debug": self = .debug
            default: return nil
            }
        }
    }

    package typealias Metadata = [(key: String, value: String)]

    /// The least severe level written.
    package var level: Level
    package private(set) var metadata: Metadata
    private let sink: any LogSink

    package init(sink: any LogSink, level: Level = .info, metadata: Metadata = []) {
        self.sink = sink
        self.level = level
        self.metadata = metadata
    }

    /// A child logger whose lines all carry `key=value`.
    package func with(_ key: String, _ value: String) -> Logger {
        var child = self
        child.metadata.append((key, value))
        return child
    }

    package func isEnabled(_ level: Level) -> Bool { level >= self.level }

    package func log(
        _ level: Level,
        _ message: @autoclosure () -> String,
        _ metadata: @autoclosure () -> Metadata = []
    ) {
        guard isEnabled(level) else { return }
        sink.write(LogRecord(level: level, message: message(), metadata: self.metadata + metadata()))
    }

    package func debug(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = []) {
        log(.debug, message(), metadata())
    }

    package func info(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = []) {
        log(.info, message(), metadata())
    }

    package func notice(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = []) {
        log(.notice, message(), metadata())
    }

    package func warning(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = []) {
        log(.warning, message(), metadata())
    }

    package func error(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = []) {
        log(.error, message(), metadata())
    }

    package func critical(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = []) {
        log(.critical, message(), metadata())
    }
}

/// One log line before formatting.
package struct LogRecord: Sendable {
    package var level: Logger.Level
    package var message: String
    package var metadata: Logger.Metadata

    package init(level: Logger.Level, message: String, metadata: Logger.Metadata) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }

    /// `<6>message key=value key="quoted value"`: journald-friendly, one line, no control characters.
    package var formatted: String { formatted(time: nil) }

    /// The line, ending in `time=2026-11-29T20:41:02.123Z` when `time` (seconds since 1970) is
    /// given: for a reader that does not stamp lines itself, as journald does.
    package func formatted(time: Double?) -> String {
        var line = "<\(level.rawValue)>"
        line += LogRecord.escapedMessage(message)
        for (key, value) in metadata {
            line += " "
            line += key
            line += "="
            line += LogRecord.quotedIfNeeded(value)
        }
        if let time {
            line += " time="
            line += LogRecord.rfc3339(time)
        }
        return line
    }

    /// UTC with milliseconds, e.g. `2026-11-29T20:41:02.123Z`, without a formatter per line.
    static func rfc3339(_ seconds: Double) -> String {
        RFC3339.string(millisecondsSinceEpoch: Int64((seconds * 1000).rounded()))
    }

    private static func escapedMessage(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += scalar == "\n" ? "\\n" : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Where log records go.
package protocol LogSink: Sendable {
    func write(_ record: LogRecord)
}

/// Writes each record as one line to standard error with a single `write(2)`, so that lines
/// from different threads never interleave. Lines carry their time unless standard error is
/// journald's stream, which stamps them itself.
package struct StandardErrorLogSink: LogSink {
    /// Whether each line ends in `time=…`.
    package let stampsTime: Bool

    /// `stampsTime` nil: stamp unless standard error is journald's (`JOURNAL_STREAM`).
    package init(stampsTime: Bool? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.stampsTime = stampsTime ?? !StandardErrorLogSink.isJournalStream(environment["JOURNAL_STREAM"])
    }

    /// systemd sets `JOURNAL_STREAM=DEVICE:INODE` of the stream it connected standard error to; a
    /// child whose standard error was redirected elsewhere inherits the variable, so it is
    /// compared with the descriptor (systemd.exec(5), "$JOURNAL_STREAM").
    package static func isJournalStream(_ value: String?) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    package func write(_ record: LogRecord) {
        var bytes = Array(record.formatted(time: stampsTime ? Date().timeIntervalSince1970 : nil).utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // stderr gone: nothing sensible left to do with a log line
                }
            }
        }
    }
}
