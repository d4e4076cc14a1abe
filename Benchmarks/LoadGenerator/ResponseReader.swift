import TLS

/// Reads one HTTP/1.1 response from a TLS connection and checks it: a status line, a
/// Content-Length, and exactly that many body bytes (no pipelining, so nothing may follow).
///
/// Owns a scratch buffer, reused for every response of one worker.
final class ResponseReader {
    struct Response {
        var status: Int
        var bodyBytes: Int
        /// The server said `Connection: close` (or spoke HTTP/1.0 without keep-alive).
        var closes: Bool
    }

    private let buffer: UnsafeMutableRawBufferPointer

    init(capacity: Int = 64 * 1024) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func read(from connection: TLSConnection, noBody: Bool) throws(FailureEvent) -> Response {
        var filled = 0
        var headEnd = -1
        while headEnd < 0 {
            guard filled < buffer.count else { throw FailureEvent(.malformed, "the response head is larger than \(buffer.count) bytes") }
            let count = try readSome(connection, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), partial: filled > 0)
            let searchFrom = max(0, filled - 3)
            filled += count
            headEnd = findHeadEnd(from: searchFrom, to: filled)
        }
        var response = try parseHead(length: headEnd)
        let contentLength = response.bodyBytes
        let bodyExpected = noBody || response.status == 204 || response.status == 304 ? 0 : contentLength
        let bodyStart = headEnd + 4
        var received = filled - bodyStart
        while received < bodyExpected {
            received += try readSome(connection, into: buffer, partial: true)
        }
        if received > bodyExpected {
            throw FailureEvent(.malformed, "\(received - bodyExpected) bytes after the response body (Content-Length \(bodyExpected))")
        }
        response.bodyBytes = bodyExpected
        return response
    }

    private func readSome(_ connection: TLSConnection, into target: UnsafeMutableRawBufferPointer, partial: Bool) throws(FailureEvent) -> Int {
        while true {
            switch connection.read(into: target) {
            case .done(let count):
                if count > 0 { return count }
            case .wantRead, .wantWrite:
                // Blocking sockets only ask again when SO_RCVTIMEO ran out.
                throw FailureEvent(.timeout, "no response within the timeout")
            case .closed:
                throw FailureEvent(.closed, partial ? "the connection closed in the middle of a response" : "the connection closed before a response")
            case .failed(let failure):
                throw FailureEvent(.tls, "TLS read failed: \(failure)")
            }
        }
    }

    /// The offset of the CR that starts CRLFCRLF, or -1.
    private func findHeadEnd(from start: Int, to end: Int) -> Int {
        var index = start
        while index + 3 < end {
            if buffer[index + 3] == 0x0A && buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D {
                return index
            }
            index += 1
        }
        return -1
    }

    private func parseHead(length: Int) throws(FailureEvent) -> Response {
        // "HTTP/1.x NNN"
        guard length >= 12, buffer[0] == 0x48, buffer[1] == 0x54, buffer[2] == 0x54, buffer[3] == 0x50, buffer[4] == 0x2F,
              buffer[5] == 0x31, buffer[6] == 0x2E, buffer[8] == 0x20 else {
            throw FailureEvent(.malformed, "the response does not start with an HTTP/1.x status line")
        }
        var status = 0
        for index in 9..<12 {
            let digit = buffer[index]
            guard digit >= 0x30 && digit <= 0x39 else { throw FailureEvent(.malformed, "the status code is not three digits") }
            status = status * 10 + Int(digit - 0x30)
        }
        let isHTTP10 = buffer[7] == 0x30
        var contentLength: Int?
        var connectionClose = isHTTP10
        var chunked = false

        var lineStart = 0
        while lineStart < length && !(buffer[lineStart] == 0x0D && buffer[lineStart + 1] == 0x0A) { lineStart += 1 }
        lineStart += 2
        while lineStart < length {
            var lineEnd = lineStart
            while lineEnd < length && buffer[lineEnd] != 0x0D { lineEnd += 1 }
            if let colon = firstColon(lineStart, lineEnd) {
                var valueStart = colon + 1
                while valueStart < lineEnd && (buffer[valueStart] == 0x20 || buffer[valueStart] == 0x09) { valueStart += 1 }
                var valueEnd = lineEnd
                while valueEnd > valueStart && (buffer[valueEnd - 1] == 0x20 || buffer[valueEnd - 1] == 0x09) { valueEnd -= 1 }
                if nameEquals(lineStart, colon, "content-length") {
                    var value = 0
                    guard valueEnd > valueStart, valueEnd - valueStart <= 15 else { throw FailureEvent(.malformed, "a bad Content-Length") }
                    for index in valueStart..<valueEnd {
                        let digit = buffer[index]
                        guard digit >= 0x30 && digit <= 0x39 else { throw FailureEvent(.malformed, "a bad Content-Length") }
                        value = value * 10 + Int(digit - 0x30)
                    }
                    contentLength = value
                } else if nameEquals(lineStart, colon, "connection") {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[valueStart..<valueEnd]), as: UTF8.self).lowercased()
                    if text.contains("close") { connectionClose = true }
                    if isHTTP10 && text.contains("keep-alive") { connectionClose = false }
                } else if nameEquals(lineStart, colon, "transfer-encoding") {
                    chunked = true
                }
            }
            lineStart = lineEnd + 2
        }
        if chunked { throw FailureEvent(.malformed, "chunked responses are not supported by refex-bench") }
        guard let contentLength else {
            if status == 204 || status == 304 || status < 200 { return Response(status: status, bodyBytes: 0, closes: connectionClose) }
            throw FailureEvent(.malformed, "the response has no Content-Length")
        }
        return Response(status: status, bodyBytes: contentLength, closes: connectionClose)
    }

    private func firstColon(_ start: Int, _ end: Int) -> Int? {
        var index = start
        while index < end {
            if buffer[index] == 0x3A { return index }
            index += 1
        }
        return nil
    }

    private func nameEquals(_ start: Int, _ end: Int, _ lowercased: StaticString) -> Bool {
        guard end - start == lowercased.utf8CodeUnitCount else { return false }
        let expected = lowercased.utf8Start
        for offset in 0..<(end - start) {
            var byte = buffer[start + offset]
            if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
            if byte != expected[offset] { return false }
        }
        return true
    }
}
