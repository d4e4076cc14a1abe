import Foundation

/// Reads one HTTP/1.1 response incrementally and checks it: a status line, a Content-Length, and
/// exactly that many body bytes (no pipelining, so nothing may follow the body).
///
/// Bytes go into `readTarget`, then `consume(count)` says whether the response is complete.
/// Owns a buffer, reused for every response on one connection slot.
final class ResponseReader {
    struct Response {
        var status: Int
        var bodyBytes: Int
        /// The server said `Connection: close` (or spoke HTTP/1.0 without keep-alive).
        var closes: Bool
    }

    private let buffer: UnsafeMutableRawBufferPointer
    private let noBody: Bool
    private var filled = 0
    /// The offset of the CR that starts CRLFCRLF once the head is complete, else -1.
    private var headEnd = -1
    private var head = Response(status: 0, bodyBytes: 0, closes: false)
    private var bodyExpected = 0
    private var bodyReceived = 0

    init(noBody: Bool, capacity: Int = 16 * 1024) {
        self.noBody = noBody
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Bytes of the current response received so far (for diagnosing a timeout).
    var receivedBytes: Int { headEnd < 0 ? filled : headEnd + 4 + bodyReceived }

    /// Forgets the last response: the next bytes start a new one.
    func reset() {
        filled = 0
        headEnd = -1
        bodyExpected = 0
        bodyReceived = 0
    }

    /// Where the next bytes read should go: after the head so far, or (once the head is complete)
    /// anywhere, since body bytes are only counted.
    var readTarget: UnsafeMutableRawBufferPointer {
        headEnd < 0 ? UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]) : buffer
    }

    /// Takes `count` bytes just written into `readTarget`; the response once it is whole.
    func consume(_ count: Int) throws(FailureEvent) -> Response? {
        if headEnd >= 0 {
            bodyReceived += count
        } else {
            let searchFrom = max(0, filled - 3)
            filled += count
            headEnd = findHeadEnd(from: searchFrom, to: filled)
            if headEnd < 0 {
                if filled == buffer.count { throw FailureEvent(.malformed, "the response head is larger than \(buffer.count) bytes") }
                return nil
            }
            head = try parseHead(length: headEnd)
            bodyExpected = noBody || head.status == 204 || head.status == 304 ? 0 : head.bodyBytes
            bodyReceived = filled - (headEnd + 4)
        }
        if bodyReceived < bodyExpected { return nil }
        if bodyReceived > bodyExpected {
            throw FailureEvent(.malformed, "\(bodyReceived - bodyExpected) bytes after the response body (Content-Length \(bodyExpected))")
        }
        var response = head
        response.bodyBytes = bodyExpected
        return response
    }

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

        var lineStart = 0
        while lineStart < length && buffer[lineStart] != 0x0D { lineStart += 1 }
        lineStart += 2
        while lineStart < length {
            var lineEnd = lineStart
            while lineEnd < length && buffer[lineEnd] != 0x0D { lineEnd += 1 }
            if let colon = firstIndex(of: 0x3A, lineStart, lineEnd) {
                var valueStart = colon + 1
                while valueStart < lineEnd && (buffer[valueStart] == 0x20 || buffer[valueStart] == 0x09) { valueStart += 1 }
                var valueEnd = lineEnd
                while valueEnd > valueStart && (buffer[valueEnd - 1] == 0x20 || buffer[valueEnd - 1] == 0x09) { valueEnd -= 1 }
                if equalsIgnoringCase(lineStart, colon, "content-length") {
                    guard valueEnd > valueStart, valueEnd - valueStart <= 15 else { throw FailureEvent(.malformed, "a bad Content-Length") }
                    var value = 0
                    for index in valueStart..<valueEnd {
                        let digit = buffer[index]
                        guard digit >= 0x30 && digit <= 0x39 else { throw FailureEvent(.malformed, "a bad Content-Length") }
                        value = value * 10 + Int(digit - 0x30)
                    }
                    contentLength = value
                } else if equalsIgnoringCase(lineStart, colon, "connection") {
                    if equalsIgnoringCase(valueStart, valueEnd, "close") { connectionClose = true }
                    if isHTTP10 && equalsIgnoringCase(valueStart, valueEnd, "keep-alive") { connectionClose = false }
                } else if equalsIgnoringCase(lineStart, colon, "transfer-encoding") {
                    throw FailureEvent(.malformed, "a response with Transfer-Encoding (refex-bench reads Content-Length only)")
                }
            }
            lineStart = lineEnd + 2
        }
        guard let contentLength else {
            if status == 204 || status == 304 || status < 200 { return Response(status: status, bodyBytes: 0, closes: connectionClose) }
            throw FailureEvent(.malformed, "the response has no Content-Length")
        }
        return Response(status: status, bodyBytes: contentLength, closes: connectionClose)
    }

    private func firstIndex(of byte: UInt8, _ start: Int, _ end: Int) -> Int? {
        var index = start
        while index < end {
            if buffer[index] == byte { return index }
            index += 1
        }
        return nil
    }

    private func equalsIgnoringCase(_ start: Int, _ end: Int, _ lowercased: StaticString) -> Bool {
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
