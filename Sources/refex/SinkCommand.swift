import Foundation
import HTTP
import Server
import Sink
import Daemon

/// `refex sink`: the sample recipient.
enum SinkCommand {
    static let usage = """
    usage: refex sink --listen HOST:PORT --cert FILE --key FILE --client-ca FILE --dir DIR
                      [--fail-first N] [--fail-status CODE] [--retry-after VALUE [--retry-after-date imf|rfc850|asctime]]
                      [--status CODE] [--delay-ms MS]

    A sample recipient: serves mutual TLS (the client certificate must chain to --client-ca),
    accepts deliveries and erasure notices by POST, and writes each to DIR as one JSON file named by
    its disclosure id (a repeated Idempotency-Key is acknowledged and not written twice). Every
    request is journalled in DIR/requests.log. --fail-first N answers the first N requests with
    --fail-status (503 by default, with Retry-After: VALUE when --retry-after is given, sent as it
    is; with --retry-after-date, VALUE is a number of seconds and Retry-After the HTTP-date that many
    seconds later, in that form); --status answers every request with that status; --delay-ms
    answers slowly.
    """

    static func run(_ arguments: [String]) -> Int32 {
        var values: [String: String] = [:]
        var index = 0
        let known: Set<String> = ["--listen", "--cert", "--key", "--client-ca", "--dir", "--fail-first", "--fail-status", "--retry-after", "--retry-after-date", "--status", "--delay-ms"]
        while index < arguments.count {
            let option = arguments[index]
            guard known.contains(option), index + 1 < arguments.count else {
                printError("refex sink: unknown or incomplete option '\(option)'\n\n\(usage)")
                return 2
            }
            values[option] = arguments[index + 1]
            index += 2
        }
        guard let listen = values["--listen"], let cert = values["--cert"], let key = values["--key"],
              let ca = values["--client-ca"], let dir = values["--dir"] else {
            printError("refex sink: --listen, --cert, --key, --client-ca and --dir are required\n\n\(usage)")
            return 2
        }
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            printError("refex sink: --listen must be HOST:PORT")
            return 2
        }
        func number(_ option: String) -> Int? { values[option].flatMap(Int.init) }
        for option in ["--fail-first", "--fail-status", "--status", "--delay-ms"] where values[option] != nil && number(option) == nil {
            printError("refex sink: \(option) must be a number")
            return 2
        }
        var dateForm: HTTPDateForm?
        if let form = values["--retry-after-date"] {
            guard let known = HTTPDateForm(rawValue: form), number("--retry-after") != nil else {
                printError("refex sink: --retry-after-date takes imf, rfc850 or asctime, and needs --retry-after SECONDS")
                return 2
            }
            dateForm = known
        }
        let configuration = SinkConfiguration(
            listen: ListenAddress(host: String(parts[0]), port: port), certificatePath: cert, keyPath: key, clientCAPath: ca,
            directory: dir, failFirst: number("--fail-first") ?? 0, failStatus: number("--fail-status") ?? 503,
            retryAfter: values["--retry-after"], retryAfterDateForm: dateForm, alwaysStatus: number("--status"), delayMilliseconds: number("--delay-ms") ?? 0
        )
        ProcessSignals.block()
        let sink: Sink
        do {
            sink = try Sink(configuration)
        } catch {
            printError("refex sink: \(error)")
            return 1
        }
        let stopped = DispatchSemaphore(value: 0)
        ProcessSignals.startWaiting { number in
            if number != SIGHUP { stopped.signal() }
        }
        sink.start()
        // Tell a parent (a test, make run) where it listens, once it does.
        FileHandle.standardOutput.write(Data("listening \(sink.address)\n".utf8))
        stopped.wait()
        sink.stop()
        return 0
    }
}
