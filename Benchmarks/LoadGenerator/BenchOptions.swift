import Foundation

/// What to run, from the command line. Every option has a default except the client certificate.
struct BenchOptions: Sendable {
    enum Mode: String, Sendable {
        /// One TLS connection per worker, reused for every request.
        case keepalive
        /// A new TCP connection and full TLS handshake for every request (no session resumption).
        case handshake
    }

    var url = TargetURL(scheme: "https", host: "localhost", port: 8443, path: "/v1/whoami")
    /// With `--port`: the ports of the URL's host to connect to instead of the URL's, connection i to
    /// `ports[i % ports.count]` (several servers behind one name, e.g. two refex nodes on one store).
    var ports: [UInt16] = []
    var certificatePath: String?
    var keyPath: String?
    var caPath: String?
    var connections = 16
    /// Threads sharing the connections; nil means min(2, connections).
    var threads: Int?
    var duration: Double = 10
    /// Requests to measure in total; when set, the run ends after that many instead of after `duration`.
    var requests: Int?
    var warmup: Double = 1
    var mode = Mode.keepalive
    /// Requests per second across all connections, sent on a fixed schedule (open loop); nil sends as fast as possible.
    var rate: Double?
    var method = "GET"
    var bodyPaths: [String] = []
    /// Text in the bodies replaced by a token unique to each request (e.g. a referenceId).
    var uniquePlaceholder: String?
    var contentType: String?
    var extraHeaders: [(String, String)] = []
    var expectedStatus = 200
    var timeout: Double = 10
    var json = false
    var label: String?
    /// With `--interval`: measured successes are also counted per interval of this many seconds (by completion time).
    var interval: Double?

    static let usage = """
    refex-bench: a TLS load generator with a client certificate, for refex and its peers.

    Usage: refex-bench --url https://HOST:PORT/PATH --cert FILE --key FILE --ca FILE [options]

      --url URL              target (https only; default https://localhost:8443/v1/whoami)
      --port N               connect to port N of the URL's host instead; repeat to spread the
                             connections round-robin over several servers (e.g. two nodes)
      --cert FILE --key FILE client certificate and key (PEM)
      --ca FILE              CA bundle that the server certificate must chain to (PEM)
      --connections N        concurrent connections (default 16, at most 1024)
      --threads N            threads driving them with epoll (default 2, or 1 for one connection)
      --duration SECONDS     measured time (default 10)
      --requests N           measure N requests instead of a duration
      --warmup SECONDS       unmeasured time first (default 1)
      --mode keepalive|handshake
                             reuse each connection, or a new TLS handshake per request (default keepalive)
      --rate R               open loop: R requests/s in total on a fixed schedule; latency counts
                             from the scheduled send time (no coordinated omission)
      --method M             request method (default GET, or POST when a body is given)
      --body FILE|DIR        send this file as the body; a directory: its files, round-robin
      --content-type TYPE    Content-Type of the body (default application/json)
      --unique TEXT          replace TEXT in the body with a token unique to each request
      --header 'Name: value' an extra request header (repeatable)
      --expect-status CODE   the status every response must have (default 200)
      --timeout SECONDS      socket read/write timeout (default 10)
      --label TEXT           a name carried into the report
      --interval SECONDS     also count measured successes per interval (by completion time), e.g.
                             to compare a long run's first and last minute
      --json                 print one JSON object instead of text
    """

    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        var index = 0
        func value(_ name: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(name) needs a value") }
            return arguments[index]
        }
        func number(_ name: String) throws -> Double {
            let text = try value(name)
            guard let number = Double(text), number.isFinite, number >= 0 else { throw UsageError("\(name): '\(text)' is not a number ≥ 0") }
            return number
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int {
            let text = try value(name)
            guard let number = Int(text), range.contains(number) else { throw UsageError("\(name): '\(text)' is not a whole number in \(range)") }
            return number
        }
        var methodGiven = false
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--url": options.url = try TargetURL(parsing: value(argument))
            case "--port":
                let text = try value(argument)
                guard let port = UInt16(text), port > 0 else { throw UsageError("--port: '\(text)' is not a port (1 to 65535)") }
                options.ports.append(port)
            case "--cert": options.certificatePath = try value(argument)
            case "--key": options.keyPath = try value(argument)
            case "--ca": options.caPath = try value(argument)
            case "--connections", "-c": options.connections = try integer(argument, 1...1024)
            case "--threads", "-t": options.threads = try integer(argument, 1...64)
            case "--duration", "-d": options.duration = try number(argument)
            case "--requests", "-n": options.requests = try integer(argument, 1...Int(Int32.max))
            case "--warmup": options.warmup = try number(argument)
            case "--mode":
                let text = try value(argument)
                guard let mode = Mode(rawValue: text) else { throw UsageError("--mode must be keepalive or handshake, not '\(text)'") }
                options.mode = mode
            case "--rate":
                let rate = try number(argument)
                guard rate > 0 else { throw UsageError("--rate must be more than 0") }
                options.rate = rate
            case "--method":
                options.method = try value(argument).uppercased()
                methodGiven = true
            case "--body": options.bodyPaths.append(try value(argument))
            case "--unique": options.uniquePlaceholder = try value(argument)
            case "--content-type": options.contentType = try value(argument)
            case "--header", "-H":
                let text = try value(argument)
                guard let colon = text.firstIndex(of: ":") else { throw UsageError("--header must be 'Name: value'") }
                let name = text[..<colon].trimmingCharacters(in: .whitespaces)
                let headerValue = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else { throw UsageError("--header: the name is empty or has spaces") }
                options.extraHeaders.append((name, headerValue))
            case "--expect-status": options.expectedStatus = try integer(argument, 100...599)
            case "--timeout": options.timeout = try number(argument)
            case "--label": options.label = try value(argument)
            case "--json": options.json = true
            case "--interval":
                let seconds = try number(argument)
                guard seconds > 0 else { throw UsageError("--interval must be more than 0") }
                options.interval = seconds
            case "--help", "-h": throw UsageError(nil)
            default: throw UsageError("unknown option '\(argument)'")
            }
            index += 1
        }
        if !options.bodyPaths.isEmpty && !methodGiven { options.method = "POST" }
        guard options.certificatePath != nil, options.keyPath != nil else { throw UsageError("--cert and --key are required") }
        guard options.caPath != nil else { throw UsageError("--ca is required") }
        guard options.ports.count <= options.connections else {
            throw UsageError("--port is given \(options.ports.count) times but there are only \(options.connections) connections")
        }
        guard options.timeout > 0 else { throw UsageError("--timeout must be more than 0") }
        guard options.requests != nil || options.duration > 0 else { throw UsageError("--duration must be more than 0") }
        return options
    }
}

/// A mistake on the command line; a nil message asks for the usage text alone.
struct UsageError: Error {
    var message: String?
    init(_ message: String?) { self.message = message }
}
