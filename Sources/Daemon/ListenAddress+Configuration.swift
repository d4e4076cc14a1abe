import Foundation
import Server

extension ListenAddress {
    /// `HOST:PORT` as the config writes a listener (`127.0.0.1:8443`, `[::1]:8443`, `localhost:0`):
    /// the schema checks its shape; this, that the port fits and the host is an address.
    init?(configured text: String, setting: String, _ problems: inout ConfigurationProblems) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                problems.add(setting, "must be HOST:PORT, e.g. 127.0.0.1:8443 or [::1]:8443")
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                problems.add(setting, "must be HOST:PORT, e.g. 127.0.0.1:8443")
                return nil
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        // Port 0 asks the kernel for a free port; refex reports the one it got when it is ready.
        guard let port = UInt16(portText) else {
            problems.add(setting, "the port must be a number from 0 to 65535")
            return nil
        }
        var scratch = [UInt8](repeating: 0, count: 16)
        let hostString = String(host)
        guard hostString == "localhost" || inet_pton(AF_INET, hostString, &scratch) == 1 || inet_pton(AF_INET6, hostString, &scratch) == 1 else {
            problems.add(setting, "the host must be an IP address (or localhost)")
            return nil
        }
        self.init(host: hostString, port: port)
    }
}
