import HTTP

/// Limits and time limits for every listener of a server. The defaults are the production ones.
package struct ServerConfiguration: Sendable {
    package var parserLimits: HTTPParserLimits
    /// Authenticated connections (handshake finished) on the partner listener; beyond it a client gets 503 and is closed.
    package var maxConnections: Int
    /// Authenticated connections one partner may hold; beyond it that partner gets 503, and the others are unaffected.
    package var maxConnectionsPerPartner: Int
    /// Connections still in their TLS handshake (nobody authenticated yet). When full, a new one
    /// displaces the oldest handshake of the address holding the most, so that idle sockets cannot lock partners out.
    package var maxHandshakes: Int
    /// Connections in their handshake from one peer address; beyond it a new one from that address
    /// takes the slot of the address's oldest if that has been waiting over a second, else is closed.
    package var maxHandshakesPerAddress: Int
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
        maxConnectionsPerPartner: Int = 64,
        maxHandshakes: Int = 256,
        maxHandshakesPerAddress: Int = 64,
        handshakeTimeout: Duration = .seconds(5),
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60),
        writeTimeout: Duration = .seconds(30),
        drainTimeout: Duration = .seconds(15),
        eventLoops: Int = 0
    ) {
        self.parserLimits = parserLimits
        self.maxConnections = maxConnections
        self.maxConnectionsPerPartner = maxConnectionsPerPartner
        self.maxHandshakes = maxHandshakes
        self.maxHandshakesPerAddress = maxHandshakesPerAddress
        self.handshakeTimeout = handshakeTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.drainTimeout = drainTimeout
        self.eventLoops = eventLoops
    }
}
