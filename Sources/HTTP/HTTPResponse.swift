import JSON

/// A response: status, headers and the whole body.
package struct HTTPResponse: Sendable {
    package var status: HTTPStatus
    package var headers: HTTPHeaders
    package var body: [UInt8]

    package init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body (`application/json`).
    package init(status: HTTPStatus = .ok, json: JSONValue, headers: HTTPHeaders = HTTPHeaders()) {
        var headers = headers
        headers.set("content-type", "application/json")
        self.init(status: status, headers: headers, body: json.serialized())
    }

    /// A plain-text body (`text/plain; charset=utf-8`).
    package init(status: HTTPStatus = .ok, text: String, contentType: String = "text/plain; charset=utf-8") {
        self.init(status: status, headers: ["content-type": contentType], body: Array(text.utf8))
    }
}

extension HTTPResponse {
    /// Adds what every answer of refex's partner listener carries: its request id, and headers
    /// that keep it out of caches and stop content sniffing.
    package mutating func setStandardHeaders(requestID: String) {
        headers.set("x-request-id", requestID)
        headers.set("cache-control", "no-store")
        headers.set("x-content-type-options", "nosniff")
    }
}

/// Serialises responses for the wire.
package enum HTTPResponseEncoder {
    /// The bytes of `response` answering a request made with `method`.
    ///
    /// Adds `Content-Length`, `Date` and, when the connection will close, `Connection: close`
    /// (or, answering an HTTP/1.0 request on a connection kept alive, `Connection: keep-alive`,
    /// without which an HTTP/1.0 client closes); a response to HEAD keeps its headers and drops its body.
    package static func encode(
        _ response: HTTPResponse, answering method: HTTPMethod, version: HTTPVersion = .http1_1, keepAlive: Bool, date: String
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + response.body.count)
        appendStatusLine(response.status, to: &out)
        for (name, value) in response.headers where name != "content-length" && name != "connection" && name != "date" {
            appendField(name, value, to: &out)
        }
        appendField("date", date, to: &out)
        let code = response.status.code
        if code >= 200 && code != 204 && code != 304 {
            appendContentLength(response.body.count, to: &out)
        }
        if !keepAlive {
            appendField("connection", "close", to: &out)
        } else if version == .http1_0 {
            appendField("connection", "keep-alive", to: &out)
        }
        out.append(contentsOf: "\r\n".utf8)
        if method != .head { out.append(contentsOf: response.body) }
        return out
    }

    /// `HTTP/1.1 100 Continue`.
    package static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static func appendStatusLine(_ status: HTTPStatus, to out: inout [UInt8]) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status.code, to: &out)
        out.append(0x20)
        appendFieldValue(status.reasonPhrase, to: &out)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    private static func appendDecimal(_ number: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(number).utf8)  // a small string: no allocation
    }

    private static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        // `content-type` → `Content-Type`: names are case-insensitive, but people read them.
        let nameStart = out.count
        out.append(contentsOf: name.utf8)
        var upper = true
        for position in nameStart..<out.count {
            let byte = out[position]
            if upper && byte >= 0x61 && byte <= 0x7A { out[position] = byte - 0x20 }
            upper = byte == 0x2D
        }
        out.append(contentsOf: [0x3A, 0x20])
        appendFieldValue(value, to: &out)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// A value from a handler must never split the header section: CR and LF become spaces.
    private static func appendFieldValue(_ value: String, to out: inout [UInt8]) {
        let valueStart = out.count
        out.append(contentsOf: value.utf8)
        for position in valueStart..<out.count where out[position] == 0x0D || out[position] == 0x0A {
            out[position] = 0x20
        }
    }

    /// Appends the content length as decimal digits (no string made).
    private static func appendContentLength(_ length: Int, to out: inout [UInt8]) {
        out.append(contentsOf: "Content-Length: ".utf8)
        appendDecimal(length, to: &out)
        out.append(contentsOf: [0x0D, 0x0A])
    }
}

/// The `Date` header value (RFC 9110 §5.6.7, IMF-fixdate) for a time in seconds since 1970.
package func httpDate(secondsSince1970 seconds: Int) -> String {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    let monthName = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(weekday), \(two(day)) \(monthName) \(year) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
}
