import HTTP

/// Limits and time limits for every listener of a server. The defaults are the production ones.
package struct ServerConfiguration: Sendable {
    package var parserLimits: HTTPParserLimits
    /// Open connections across all listeners; beyond it a client gets 503 and is closed.
    package var maxConnections: Int
    /// From accept to a finished TLS handshake.
    package var handshakeTimeout: Duration
    /// From a request's first byte to the end of its header section.
    package var headerTimeout: Duration
    /// From the end of the header section to the end of the body.
    package var bodyTimeout: Duration
    /// Between requests on a kept-alive connection.
    package var idleTimeout: Duration
    /// For the client to take a response it is not reading.
    package var writeTimeout: Duration
    /// After SIGTERM, how long requests in progress may take before connections are cut.
    package var drainTimeout: Duration
    /// Event loop threads; 0 means one per CPU.
    package var eventLoops: Int

    package init(
        parserLimits: HTTPParserLimits = HTTPParserLimits(),
        maxConnections: Int = 1024,
        handshakeTimeout: Duration = .seconds(10),
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60),
        writeTimeout: Duration = .seconds(30),
        drainTimeout: Duration = .seconds(15),
        eventLoops: Int = 0
    ) {
        self.parserLimits = parserLimits
        self.maxConnections = maxConnections
        self.handshakeTimeout = handshakeTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.drainTimeout = drainTimeout
        self.eventLoops = eventLoops
    }
}
