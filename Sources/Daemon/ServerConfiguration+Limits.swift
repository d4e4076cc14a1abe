import HTTP
import Server

extension ServerConfiguration {
    /// The server's defaults with the config's `limits` section over them.
    init(limits section: ConfigurationSection?) {
        self.init()
        guard let section else { return }
        func count(_ key: String, into value: inout Int) {
            if let number = section.integer(key) { value = Int(number) }
        }
        func seconds(_ key: String, into value: inout Duration) {
            if let number = section.integer(key) { value = .seconds(number) }
        }
        count("maxBodyBytes", into: &parserLimits.maxBodyBytes)
        count("maxHeaderBytes", into: &parserLimits.maxHeaderBytes)
        count("maxHeaderCount", into: &parserLimits.maxHeaderCount)
        count("maxTargetBytes", into: &parserLimits.maxTargetBytes)
        count("maxConnections", into: &maxConnections)
        count("maxConnectionsPerPartner", into: &maxConnectionsPerPartner)
        count("maxHandshakes", into: &maxHandshakes)
        count("maxHandshakesPerAddress", into: &maxHandshakesPerAddress)
        count("eventLoops", into: &eventLoops)
        seconds("handshakeTimeoutSeconds", into: &handshakeTimeout)
        seconds("headerTimeoutSeconds", into: &headerTimeout)
        seconds("bodyTimeoutSeconds", into: &bodyTimeout)
        seconds("idleTimeoutSeconds", into: &idleTimeout)
        seconds("writeTimeoutSeconds", into: &writeTimeout)
        seconds("drainTimeoutSeconds", into: &drainTimeout)
    }
}
