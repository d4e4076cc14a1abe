import Foundation
import TLS

// refex-bench: drives a TLS server with client-certificate connections and reports throughput and latency.

func readFile(_ path: String, _ what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("cannot read the \(what) \(path)") }
    return Array(data)
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func writeError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func runBench(_ options: BenchOptions) throws -> BenchReport {
    signal(SIGPIPE, SIG_IGN)
    let context = try TLSClientContext(TLSClientConfiguration(
        trustedCAPEM: readFile(options.caPath ?? "", "CA file"),
        certificateChainPEM: readFile(options.certificatePath ?? "", "client certificate"),
        privateKeyPEM: readFile(options.keyPath ?? "", "client key"),
        resumeSessions: false
    ))
    let addresses = try (options.ports.isEmpty ? [options.url.port] : options.ports).map { try ServerAddress(host: options.url.host, port: $0) }
    let requests = try RequestSet(options: options)

    // One probe first, per server: a wrong certificate or a dead server fails here, clearly, instead of as N errors.
    var tlsVersion = ""
    for (index, address) in addresses.enumerated() {
        let probe = try BenchConnection(address: address, context: context, serverName: options.url.host, timeout: options.timeout)
        tlsVersion = probe.tls.protocolVersion
        try probe.send(requests.request(slot: -1 - index, counter: 0, sequence: 0))
        let probeResponse = try probe.receive(ResponseReader(noBody: requests.expectsNoBody))
        guard probeResponse.status == options.expectedStatus else {
            throw BenchError("the first response from \(address.description) has status \(probeResponse.status), expected \(options.expectedStatus)")
        }
    }

    let cpuBefore = processCPUSeconds()
    let plan = RunPlan(options: options, start: monotonicNow() + 20_000_000)
    let threads = min(options.threads ?? 2, options.connections)
    let workers = try (0..<threads).map { thread in
        try LoadWorker(
            slotIndices: Array(stride(from: thread, to: options.connections, by: threads)), options: options,
            addresses: addresses, context: context, requests: requests, plan: plan
        )
    }
    let group = DispatchGroup()
    for worker in workers {
        group.enter()
        let thread = Thread {
            worker.run()
            group.leave()
        }
        thread.start()
    }
    group.wait()
    let finished = monotonicNow()
    let cpu = processCPUSeconds() - cpuBefore

    var latencies: [UInt64] = []
    var failures: [Failure: Int] = [:]
    var firstFailure: [Failure: String] = [:]
    var handshakes = 0
    var expectedResponses = addresses.count // the probes'
    var intervalSuccesses: [Int] = []
    var lastCompletion = plan.measureStart
    var maxOversleep: UInt64 = 0
    for worker in workers {
        maxOversleep = max(maxOversleep, worker.maxOversleep)
        latencies.append(contentsOf: worker.latencies)
        failures.merge(worker.failures, uniquingKeysWith: +)
        firstFailure.merge(worker.firstFailure) { first, _ in first }
        handshakes += worker.handshakes
        expectedResponses += worker.expectedResponses
        for (index, count) in worker.intervalSuccesses.enumerated() {
            if index >= intervalSuccesses.count { intervalSuccesses.append(0) }
            intervalSuccesses[index] += count
        }
        lastCompletion = max(lastCompletion, worker.lastCompletion)
    }
    let measuredSeconds = options.requests == nil
        ? options.duration
        : Double(lastCompletion - plan.measureStart) / 1e9
    return BenchReport(
        options: options, target: addresses.map(\.description).joined(separator: ", "), tlsVersion: tlsVersion, successes: latencies.count,
        failures: failures, firstFailure: firstFailure, handshakes: handshakes, measuredSeconds: measuredSeconds,
        latency: LatencySummary(latencies), clientCPUSeconds: cpu, wallSeconds: Double(finished - plan.start) / 1e9,
        clientMaxOversleepMs: Double(maxOversleep) / 1e6, expectedResponses: expectedResponses, intervalSuccesses: intervalSuccesses
    )
}

let options: BenchOptions
do {
    options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
    if let message = error.message {
        writeError("refex-bench: \(message)\n\n\(BenchOptions.usage)")
        exit(2)
    }
    print(BenchOptions.usage)
    exit(0)
} catch {
    writeError("refex-bench: \(error)")
    exit(2)
}

do {
    let report = try runBench(options)
    print(options.json ? report.json : report.text)
    exit(report.failureCount == 0 ? 0 : 1)
} catch let failure as FailureEvent {
    writeError("refex-bench: the first request failed (\(failure.kind.rawValue)): \(failure.detail)")
    exit(1)
} catch {
    writeError("refex-bench: \(error)")
    exit(1)
}
