import Foundation
import Logging
import Metrics
import Server
import TLS

/// `refex sink`: a sample recipient on refex's own HTTP and TLS modules, serving mutual TLS.
package final class Sink: Sendable {
    private let server: HTTPServer
    private let logger: Logger
    package let address: ListenAddress

    package init(_ configuration: SinkConfiguration) throws {
        logger = Logger(sink: StandardErrorLogSink()).with("component", "sink")
        try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        func read(_ path: String, _ what: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else { throw SinkError("cannot read \(what) \(path)") }
            return Array(data)
        }
        let tls = try TLSServerContext(TLSServerConfiguration(
            certificateChainPEM: try read(configuration.certificatePath, "certificate"),
            privateKeyPEM: try read(configuration.keyPath, "key"),
            clientCAPEM: try read(configuration.clientCAPath, "client CA")
        ))
        let fd = try Socket.listen(on: configuration.listen)
        address = Socket.localAddress(of: fd) ?? configuration.listen
        server = try HTTPServer(configuration: ServerConfiguration(eventLoops: 1), metrics: MetricsRegistry(), logger: logger)
        try server.addListener(ListenerSpec(
            name: "sink", fd: fd, tls: TLSContextHolder(tls), responder: SinkResponder(configuration: configuration, logger: logger),
            maxConnections: 256
        ))
    }

    package func start() {
        server.start()
        logger.notice("refex sink listening", [("listen", address.description)])
    }

    package func stop() { server.shutdown() }
}

package struct SinkError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
