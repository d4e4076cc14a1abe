/// An incremental, strict HTTP/1.1 request parser (RFC 9112) with no I/O.
///
/// Bytes go in with `append`; `next()` returns the next event: a whole request, a request
/// for `100 Continue`, more data needed, or a failure. Anything ambiguous that could let two
/// parsers disagree about where a request ends (both `Content-Length` and
/// `Transfer-Encoding`, differing lengths, a transfer coding after chunked or chunked twice,
/// bare LF or CR, obs-fold, whitespace before a colon, a malformed chunk extension) is
/// refused. After a failure the parser stays failed: the connection must close.
package struct HTTPRequestParser: Sendable {
    /// Where the parser is in a request, for the connection's timeouts.
    package enum Phase: Sendable, Hashable {
        /// Between requests with nothing buffered.
        case idle
        /// Some of a request head has arrived.
        case head
        /// The head is complete; the body is arriving.
        case body
    }

    package let limits: HTTPParserLimits

    private var buffer: [UInt8] = []
    /// The first byte not yet consumed.
    private var position = 0
    private var state: State = .head(scannedTo: 0, requestLineEnd: nil)
    private var leadingEmptyLines = 0
    /// The chunked body so far: held here, not in `state`, so that appending never copies it.
    private var chunkedBody: [UInt8] = []
    /// Bytes of chunk framing (size lines and CRLFs) in this body, bounded apart from the body.
    private var chunkFramingBytes = 0
    /// The request line of the request being read, once it is known: failures carry it.
    private var requestLine: (method: HTTPMethod, target: String)?

    private struct Head: Sendable {
        var method: HTTPMethod
        var target: String
        var version: HTTPVersion
        var headers: HTTPHeaders
        var keepAlive: Bool
        var expectsContinue: Bool
    }

    private enum State: Sendable {
        /// `scannedTo` is relative to `position`: where the search for the blank line resumes.
        case head(scannedTo: Int, requestLineEnd: Int?)
        case fixedBody(Head, length: Int, continueOffered: Bool)
        case chunkSize(Head, continueOffered: Bool)
        case chunkData(Head, remaining: Int)
        case chunkDataEnd(Head)
        case trailers(Head, trailerBytes: Int)
        case failed(HTTPParseError)
    }

    package init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed by a complete request.
    package var bufferedByteCount: Int { buffer.count - position }

    package var phase: Phase {
        switch state {
        case .head: return bufferedByteCount == 0 ? .idle : .head
        case .failed: return .idle
        default: return .body
        }
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    package mutating func append<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compactIfWorthIt() {
        if position == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            position = 0
        } else if position > 4096 && position > buffer.count / 2 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
    }

    /// Chunk framing allowed beyond one byte per body byte: room for a few long extensions.
    static let framingAllowance = 64 * 1024

    static func maxChunkFramingBytes(forBody bodyBytes: Int) -> Int { framingAllowance + bodyBytes }

    /// The next thing the connection should do.
    ///
    /// A loop, not recursion: however many chunks one read holds, the stack stays flat.
    package mutating func next() -> HTTPParserEvent {
        while true {
            if let event = step() { return event }
        }
    }

    /// One step of the state machine: an event, or nil when the state moved on and the loop continues.
    private mutating func step() -> HTTPParserEvent? {
        switch state {
        case .failed(let error):
            return .failure(error)
        case .head(let scannedTo, let requestLineEnd):
            return parseHead(scannedTo: scannedTo, requestLineEnd: requestLineEnd)
        case .fixedBody(let head, let length, let continueOffered):
            if bufferedByteCount >= length {
                let body = Array(buffer[position..<position + length])
                position += length
                return complete(head, body: body)
            }
            if head.expectsContinue && !continueOffered && bufferedByteCount == 0 {
                state = .fixedBody(head, length: length, continueOffered: true)
                return .expectContinue
            }
            return .needMoreData
        case .chunkSize(let head, let continueOffered):
            if head.expectsContinue && !continueOffered && bufferedByteCount == 0 {
                state = .chunkSize(head, continueOffered: true)
                return .expectContinue
            }
            return parseChunkSize(head, continueOffered: continueOffered)
        case .chunkData(let head, let remaining):
            let available = min(remaining, bufferedByteCount)
            chunkedBody.append(contentsOf: buffer[position..<position + available])
            position += available
            if available == remaining {
                state = .chunkDataEnd(head)
                return nil
            }
            state = .chunkData(head, remaining: remaining - available)
            return .needMoreData
        case .chunkDataEnd(let head):
            guard bufferedByteCount >= 2 else { return .needMoreData }
            guard buffer[position] == 0x0D && buffer[position + 1] == 0x0A else {
                return fail(.malformedChunk, "chunk data is not followed by CRLF")
            }
            position += 2
            chunkFramingBytes += 2
            state = .chunkSize(head, continueOffered: true)
            return nil
        case .trailers(let head, let trailerBytes):
            return parseTrailers(head, trailerBytes: trailerBytes)
        }
    }

    private mutating func fail(_ kind: HTTPParseError.Kind, _ detail: String) -> HTTPParserEvent {
        let error = HTTPParseError(kind, detail, method: requestLine?.method, target: requestLine?.target)
        state = .failed(error)
        return .failure(error)
    }

    /// The request in progress took too long (the connection's header or body timeout): the
    /// parser fails, and the error says what was known of the request.
    package mutating func timedOut(_ detail: String) -> HTTPParseError {
        if case .failed(let error) = state { return error }
        let error = HTTPParseError(.requestTimeout, detail, method: requestLine?.method, target: requestLine?.target)
        state = .failed(error)
        return error
    }

    private mutating func complete(_ head: Head, body: [UInt8]) -> HTTPParserEvent {
        state = .head(scannedTo: 0, requestLineEnd: nil)
        leadingEmptyLines = 0
        chunkedBody = []
        chunkFramingBytes = 0
        requestLine = nil
        return .request(HTTPRequest(
            method: head.method, target: head.target, version: head.version,
            headers: head.headers, body: body, keepAlive: head.keepAlive
        ))
    }

    // MARK: Head

    /// Reads the head in two phases, so that the verdict never depends on how the bytes were
    /// split across reads: first the request line (checked as soon as it is complete, before
    /// anything after it), then the header section up to the blank line.
    private mutating func parseHead(scannedTo: Int, requestLineEnd: Int?) -> HTTPParserEvent? {
        var scanned = scannedTo
        var lineEnd = requestLineEnd
        if lineEnd == nil {
            // RFC 9112 §2.2: ignore a few empty lines before a request-line.
            while leadingEmptyLines < 4, bufferedByteCount >= 2, buffer[position] == 0x0D, buffer[position + 1] == 0x0A {
                position += 2
                leadingEmptyLines += 1
                scanned = 0
            }
            if bufferedByteCount == 0 || (leadingEmptyLines < 4 && bufferedByteCount == 1 && buffer[position] == 0x0D) {
                state = .head(scannedTo: 0, requestLineEnd: nil)
                return .needMoreData
            }
            switch scanRequestLine(from: scanned) {
            case .found(let end):
                switch parseRequestLine(position..<position + end) {
                case .failure(let error): return fail(error.kind, error.detail)
                case .success(let parsed): requestLine = (parsed.0, parsed.1)
                }
                lineEnd = end
                scanned = end + 2
            case .incomplete(let resume):
                if let error = checkPartialRequestLine() { return fail(error.kind, error.detail) }
                state = .head(scannedTo: resume, requestLineEnd: nil)
                return .needMoreData
            case .bareLF(let at):
                // What a reader given the bytes in smaller pieces would already have refused comes first.
                if let problem = lengthProblem(buffer[position..<position + at]) { return fail(problem.kind, problem.detail) }
                return fail(.malformedRequestLine, "a line ends in LF without CR")
            case .bareCR(let at):
                if let problem = lengthProblem(buffer[position..<position + at - 1]) { return fail(problem.kind, problem.detail) }
                return fail(.malformedRequestLine, "a CR is not followed by LF")
            }
        }
        guard let requestLineEnd = lineEnd else { return .needMoreData }

        let fieldsStart = requestLineEnd + 2
        var found: Int?
        var failure: HTTPParseError?
        buffer.withUnsafeBufferPointer { all in
            let bytes = UnsafeBufferPointer(rebasing: all[position...])
            var index = max(scanned, fieldsStart)
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x0A {
                    guard index > fieldsStart, bytes[index - 1] == 0x0D else {
                        // A reader given the bytes in smaller pieces would have refused an oversized section first.
                        failure = index - fieldsStart > limits.maxHeaderBytes + 1
                            ? HTTPParseError(.headersTooLarge, "the header section is larger than \(limits.maxHeaderBytes) bytes")
                            : HTTPParseError(.malformedHeader, "a line ends in LF without CR")
                        return
                    }
                    // An empty header section: the request line's CRLF is followed at once by CRLF.
                    if index - 1 == fieldsStart {
                        found = requestLineEnd
                        return
                    }
                    if index >= fieldsStart + 3, bytes[index - 2] == 0x0A, bytes[index - 3] == 0x0D {
                        found = index - 3
                        return
                    }
                } else if index > fieldsStart, bytes[index - 1] == 0x0D {
                    failure = index - fieldsStart > limits.maxHeaderBytes + 1
                        ? HTTPParseError(.headersTooLarge, "the header section is larger than \(limits.maxHeaderBytes) bytes")
                        : HTTPParseError(.malformedHeader, "a CR is not followed by LF")
                    return
                }
                index += 1
            }
            // The checks look backwards, so the next scan resumes where this one stopped.
            scanned = bytes.count
        }
        if let failure { return fail(failure.kind, failure.detail) }
        if let end = found { return finishHead(requestLineEnd: requestLineEnd, headEnd: end) }
        // Fields so far; a final CR may be the start of the blank line, which does not count.
        if bufferedByteCount - fieldsStart > limits.maxHeaderBytes + 1 {
            return fail(.headersTooLarge, "the header section is larger than \(limits.maxHeaderBytes) bytes")
        }
        state = .head(scannedTo: scanned, requestLineEnd: requestLineEnd)
        return .needMoreData
    }

    private enum RequestLineScan {
        /// The offset of the request line's CR.
        case found(Int)
        /// Not complete yet; resume scanning here.
        case incomplete(resume: Int)
        /// A LF without CR at this offset.
        case bareLF(at: Int)
        /// A byte other than LF after CR, at this offset.
        case bareCR(at: Int)
    }

    private func scanRequestLine(from start: Int) -> RequestLineScan {
        buffer.withUnsafeBufferPointer { all in
            let bytes = UnsafeBufferPointer(rebasing: all[position...])
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x0A {
                    return index > 0 && bytes[index - 1] == 0x0D ? .found(index - 1) : .bareLF(at: index)
                }
                if index > 0, bytes[index - 1] == 0x0D { return .bareCR(at: index) }
                index += 1
            }
            return .incomplete(resume: bytes.count)
        }
    }

    /// The checks a complete request line would fail, applied to the part received so far (so
    /// that a long line is refused before it ends, with the status it would get when whole).
    private func checkPartialRequestLine() -> HTTPParseError? {
        // A final CR may end the line: it is not part of what precedes it.
        let end = buffer.last == 0x0D ? buffer.count - 1 : buffer.count
        return lengthProblem(buffer[position..<end])
    }

    /// The length checks, made the same way on a partial request line and a whole one, so that
    /// both give the same verdict however the line was split: the method, the target, the rest.
    private func lengthProblem(_ line: ArraySlice<UInt8>) -> HTTPParseError? {
        let firstSpace = line.firstIndex(of: 0x20)
        if (firstSpace ?? line.endIndex) - line.startIndex > HTTPRequestParser.maxMethodBytes {
            return HTTPParseError(.malformedRequestLine, "the method is longer than \(HTTPRequestParser.maxMethodBytes) bytes")
        }
        guard let firstSpace else { return nil }
        let afterMethod = line[(firstSpace + 1)...]
        let secondSpace = afterMethod.firstIndex(of: 0x20)
        if (secondSpace ?? afterMethod.endIndex) - afterMethod.startIndex > limits.maxTargetBytes {
            return HTTPParseError(.targetTooLong, "the request target is longer than \(limits.maxTargetBytes) bytes")
        }
        // " HTTP/1.1" and the line's CR at most.
        if let secondSpace, line.endIndex - secondSpace > 10 {
            return HTTPParseError(.malformedRequestLine, "the request line must be: method, target and version, separated by single spaces")
        }
        return nil
    }

    /// Longer methods are refused (400): refex's longest is 7 bytes.
    static let maxMethodBytes = 32

    /// `requestLineEnd` is the offset of the request line's CR, `headEnd` of the CR that starts the blank line's CRLFCRLF.
    private mutating func finishHead(requestLineEnd: Int, headEnd: Int) -> HTTPParserEvent? {
        let start = position
        let lineResult = parseRequestLine(start..<start + requestLineEnd)
        let method: HTTPMethod, target: String, version: HTTPVersion
        switch lineResult {
        case .failure(let error): return fail(error.kind, error.detail)
        case .success(let parsed): (method, target, version) = parsed
        }
        requestLine = (method, target)

        let fieldsStart = start + requestLineEnd + 2
        let fieldsEnd = max(fieldsStart, start + headEnd + 2)  // includes the last field's CRLF
        if fieldsEnd - fieldsStart > limits.maxHeaderBytes {
            return fail(.headersTooLarge, "the header section is larger than \(limits.maxHeaderBytes) bytes")
        }
        var headers = HTTPHeaders()
        if let error = parseFields(fieldsStart..<fieldsEnd, into: &headers) {
            return fail(error.kind, error.detail)
        }
        if headers.count > limits.maxHeaderCount {
            return fail(.headersTooLarge, "more than \(limits.maxHeaderCount) header fields")
        }
        position = start + headEnd + 4

        // Host (RFC 9112 §3.2): exactly one in HTTP/1.1.
        let hostCount = headers.count(of: "host")
        if version == .http1_1 && hostCount != 1 {
            return fail(.missingHost, hostCount == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")
        }
        if hostCount > 1 { return fail(.missingHost, "more than one Host header") }

        let connectionTokens = headers.contains("connection") ? headers.tokens("connection") : []
        let keepAlive: Bool
        switch version {
        case .http1_1: keepAlive = !connectionTokens.contains("close")
        case .http1_0: keepAlive = connectionTokens.contains("keep-alive") && !connectionTokens.contains("close")
        }

        var expectsContinue = false
        if let expect = headers["expect"], version == .http1_1 {
            guard expect.lowercased() == "100-continue", headers.count(of: "expect") == 1 else {
                return fail(.unsupportedExpectation, "only Expect: 100-continue is supported")
            }
            expectsContinue = true
        }

        var head = Head(
            method: method, target: target, version: version, headers: headers,
            keepAlive: keepAlive, expectsContinue: expectsContinue
        )

        // Message framing (RFC 9112 §6).
        let contentLengths = headers.values("content-length")
        if headers.contains("transfer-encoding") {
            let transferCodings = headers.tokens("transfer-encoding")
            guard contentLengths.isEmpty else {
                return fail(.conflictingFraming, "a request must not have both Content-Length and Transfer-Encoding")
            }
            guard version == .http1_1 else {
                return fail(.conflictingFraming, "Transfer-Encoding is not allowed in HTTP/1.0")
            }
            // RFC 9112 §6.3: chunked must be the final coding, and applied once (§7.1), or the
            // body's end cannot be known: 400. Chunked last after another coding: 501.
            guard transferCodings.last == "chunked", transferCodings.filter({ $0 == "chunked" }).count == 1 else {
                return fail(.conflictingFraming, "Transfer-Encoding must end with chunked, applied once")
            }
            guard transferCodings.count == 1 else {
                return fail(.unsupportedTransferCoding, "the only transfer coding accepted is chunked")
            }
            chunkedBody = []
            chunkFramingBytes = 0
            state = .chunkSize(head, continueOffered: false)
            return nil
        }
        if !contentLengths.isEmpty {
            var length: Int?
            for field in contentLengths {
                for item in field.split(separator: ",", omittingEmptySubsequences: false) {
                    let text = item.trimmingOptionalWhitespace()
                    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                        return fail(.invalidContentLength, "Content-Length must be a decimal number")
                    }
                    // More digits than any allowed body could need: too large, whatever the value.
                    let value = text.utf8.count > 18 ? Int.max : Int(text) ?? Int.max
                    if let known = length, known != value {
                        return fail(.invalidContentLength, "differing Content-Length values")
                    }
                    length = value
                }
            }
            let bodyLength = length ?? 0
            if bodyLength > limits.maxBodyBytes {
                return fail(.bodyTooLarge, "the body is larger than \(limits.maxBodyBytes) bytes")
            }
            if bodyLength == 0 { head.expectsContinue = false }
            state = .fixedBody(head, length: bodyLength, continueOffered: false)
            return nil
        }
        // RFC 9112 §6.3: a request with neither has no content.
        return complete(head, body: [])
    }

    private func parseRequestLine(_ range: Range<Int>) -> Result<(HTTPMethod, String, HTTPVersion), HTTPParseError> {
        let line = buffer[range]
        if let problem = lengthProblem(line) { return .failure(problem) }
        // method SP request-target SP HTTP-version, single spaces; the target has none.
        guard let firstSpace = line.firstIndex(of: 0x20),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: 0x20),
              firstSpace > line.startIndex, secondSpace > firstSpace + 1 else {
            return .failure(HTTPParseError(.malformedRequestLine, "the request line must be: method, target and version, separated by single spaces"))
        }
        let methodBytes = line[..<firstSpace]
        guard methodBytes.allSatisfy(isTokenByte) else {
            return .failure(HTTPParseError(.malformedRequestLine, "the method is not a token"))
        }

        // HTTP-version = "HTTP/" DIGIT "." DIGIT
        let versionStart = secondSpace + 1
        guard range.upperBound - versionStart == 8, buffer[versionStart..<versionStart + 5].elementsEqual("HTTP/".utf8),
              isDigit(buffer[versionStart + 5]), buffer[versionStart + 6] == 0x2E, isDigit(buffer[versionStart + 7]) else {
            return .failure(HTTPParseError(.malformedRequestLine, "the HTTP version is malformed"))
        }
        let version: HTTPVersion
        switch (buffer[versionStart + 5], buffer[versionStart + 7]) {
        case (0x31, 0x31): version = .http1_1
        case (0x31, 0x30): version = .http1_0
        default:
            return .failure(HTTPParseError(.unsupportedVersion, "refex speaks HTTP/1.1 (and HTTP/1.0)"))
        }
        let targetBytes = buffer[(firstSpace + 1)..<secondSpace]
        guard targetBytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != 0x23 }) else {
            return .failure(HTTPParseError(.invalidTarget, "the request target has a character that is not allowed"))
        }
        let method = Self.knownMethod(methodBytes) ?? HTTPMethod(String(decoding: methodBytes, as: UTF8.self))
        let isAsterisk = targetBytes.count == 1 && targetBytes.first == 0x2A && method == .options
        if targetBytes.first == 0x2F || isAsterisk {
            return .success((method, String(decoding: targetBytes, as: UTF8.self), version))
        }
        guard let originForm = Self.originForm(ofAbsoluteForm: targetBytes) else {
            return .failure(HTTPParseError(.invalidTarget, "the request target must be an absolute path or an http(s) URI without user information"))
        }
        return .success((method, originForm, version))
    }

    /// The path and query of an absolute-form target (`https://host:port/path?query`, RFC 9112
    /// §3.2.2), which a server must accept; nil for another scheme, user information (RFC 9110
    /// §4.2.4) or a malformed authority. An empty path is `/`.
    static func originForm(ofAbsoluteForm target: ArraySlice<UInt8>) -> String? {
        let lowered = target.prefix(8).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let schemeLength: Int
        if lowered.starts(with: "https://".utf8) {
            schemeLength = 8
        } else if lowered.starts(with: "http://".utf8) {
            schemeLength = 7
        } else {
            return nil
        }
        let authorityStart = target.startIndex + schemeLength
        let authorityEnd = target[authorityStart...].firstIndex { $0 == 0x2F || $0 == 0x3F } ?? target.endIndex
        let authority = target[authorityStart..<authorityEnd]
        // host [":" port]: reg-name, IPv4 or an IP literal in brackets; no "@" (user information).
        guard !authority.isEmpty, authority.first != 0x3A, authority.allSatisfy(Self.isAuthorityByte) else { return nil }
        let rest = target[authorityEnd...]
        if rest.isEmpty { return "/" }
        let path = String(decoding: rest, as: UTF8.self)
        return rest.first == 0x3F ? "/" + path : path
    }

    /// unreserved, pct-encoded, sub-delims, ":" and the brackets of an IP literal (RFC 3986 §3.2).
    private static func isAuthorityByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x2D, 0x2E, 0x5F, 0x7E, 0x25: return true                                     // - . _ ~ %
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: return true  // sub-delims
        case 0x3A, 0x5B, 0x5D: return true                                                 // : [ ]
        default: return false
        }
    }

    /// The common methods without making a string for them.
    private static func knownMethod(_ bytes: ArraySlice<UInt8>) -> HTTPMethod? {
        switch bytes.count {
        case 3:
            if bytes.elementsEqual("GET".utf8) { return .get }
            if bytes.elementsEqual("PUT".utf8) { return .put }
        case 4:
            if bytes.elementsEqual("POST".utf8) { return .post }
            if bytes.elementsEqual("HEAD".utf8) { return .head }
        case 5 where bytes.elementsEqual("PATCH".utf8): return .patch
        case 6 where bytes.elementsEqual("DELETE".utf8): return .delete
        case 7 where bytes.elementsEqual("OPTIONS".utf8): return .options
        default: break
        }
        return nil
    }

    private func parseFields(_ range: Range<Int>, into headers: inout HTTPHeaders) -> HTTPParseError? {
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            var lineEnd = lineStart
            while lineEnd < range.upperBound && buffer[lineEnd] != 0x0D { lineEnd += 1 }
            // A CR must end a line; the header section is checked as it arrives, a trailer line only here.
            if lineEnd < range.upperBound && (lineEnd + 1 >= range.upperBound || buffer[lineEnd + 1] != 0x0A) {
                return HTTPParseError(.malformedHeader, "a CR is not followed by LF")
            }
            let line = buffer[lineStart..<lineEnd]
            lineStart = lineEnd + 2
            if line.isEmpty { continue }
            if line.first == 0x20 || line.first == 0x09 {
                return HTTPParseError(.malformedHeader, "obsolete line folding is not accepted")
            }
            guard let colon = line.firstIndex(of: 0x3A) else {
                return HTTPParseError(.malformedHeader, "a header line has no colon")
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                return HTTPParseError(.malformedHeader, "a header name is empty, has whitespace before the colon, or is not a token")
            }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd && (buffer[valueStart] == 0x20 || buffer[valueStart] == 0x09) { valueStart += 1 }
            while valueEnd > valueStart && (buffer[valueEnd - 1] == 0x20 || buffer[valueEnd - 1] == 0x09) { valueEnd -= 1 }
            let value = buffer[valueStart..<valueEnd]
            guard value.allSatisfy({ $0 == 0x09 || $0 >= 0x20 && $0 != 0x7F }) else {
                return HTTPParseError(.malformedHeader, "a header value has a control character")
            }
            // Token bytes are ASCII: lower-case them as the string is made.
            let lowercasedName = String(unsafeUninitializedCapacity: name.count) { out in
                var written = 0
                for byte in name {
                    out[written] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                    written += 1
                }
                return written
            }
            headers.add(lowercasedName: lowercasedName, String(decoding: value, as: UTF8.self))
        }
        return nil
    }

    // MARK: Chunked

    private mutating func parseChunkSize(_ head: Head, continueOffered: Bool) -> HTTPParserEvent? {
        let maxLine = 1024
        var index = position
        while index < buffer.count && buffer[index] != 0x0A {
            index += 1
            if index - position > maxLine { return fail(.malformedChunk, "a chunk-size line is too long") }
        }
        guard index < buffer.count else {
            state = .chunkSize(head, continueOffered: continueOffered)
            return .needMoreData
        }
        guard index > position, buffer[index - 1] == 0x0D else {
            return fail(.malformedChunk, "a chunk-size line does not end in CRLF")
        }
        let line = buffer[position..<index - 1]
        var size = 0
        var digits = 0
        var cursor = line.startIndex
        while cursor < line.endIndex, let value = hexValue(line[cursor]) {
            digits += 1
            if digits > 15 { return fail(.bodyTooLarge, "the body is larger than \(limits.maxBodyBytes) bytes") }
            size = size * 16 + Int(value)
            cursor += 1
        }
        guard digits > 0 else { return fail(.malformedChunk, "a chunk size is not hexadecimal") }
        // Chunk extensions are parsed to their grammar and then ignored: a parser that merely
        // skipped them would disagree with one that does not about where the line ends.
        if let problem = Self.chunkExtensionProblem(line[cursor...]) { return fail(.malformedChunk, problem) }
        chunkFramingBytes += index + 1 - position
        position = index + 1
        if size == 0 {
            state = .trailers(head, trailerBytes: 0)
            return nil
        }
        if chunkedBody.count + size > limits.maxBodyBytes {
            return fail(.bodyTooLarge, "the body is larger than \(limits.maxBodyBytes) bytes")
        }
        // Tiny chunks with long extensions cost far more than the body they carry: bounded.
        if chunkFramingBytes > Self.maxChunkFramingBytes(forBody: chunkedBody.count + size) {
            return fail(.malformedChunk, "the chunks are too small for their framing (at most \(Self.framingAllowance) bytes of framing plus one byte per body byte)")
        }
        state = .chunkData(head, remaining: size)
        return nil
    }

    /// What is wrong with the chunk extensions after a chunk size, or nil (RFC 9112 §7.1.1):
    /// `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`.
    static func chunkExtensionProblem(_ text: ArraySlice<UInt8>) -> String? {
        var cursor = text.startIndex
        func skipWhitespace() {
            while cursor < text.endIndex && (text[cursor] == 0x20 || text[cursor] == 0x09) { cursor += 1 }
        }
        func token() -> Bool {
            let start = cursor
            while cursor < text.endIndex && isTokenByte(text[cursor]) { cursor += 1 }
            return cursor > start
        }
        while true {
            skipWhitespace()
            guard cursor < text.endIndex else { return nil }
            guard text[cursor] == 0x3B else { return "a chunk size is followed by something other than an extension" }
            cursor += 1
            skipWhitespace()
            guard token() else { return "a chunk extension has no name" }
            skipWhitespace()
            guard cursor < text.endIndex, text[cursor] == 0x3D else { continue }
            cursor += 1
            skipWhitespace()
            if cursor < text.endIndex && text[cursor] == 0x22 {
                cursor += 1
                var closed = false
                while cursor < text.endIndex {
                    let byte = text[cursor]
                    if byte == 0x22 {
                        cursor += 1
                        closed = true
                        break
                    }
                    if byte == 0x5C {
                        // quoted-pair: "\" followed by HTAB, SP, VCHAR or obs-text.
                        guard cursor + 1 < text.endIndex, isQuotedTextByte(text[cursor + 1]) || text[cursor + 1] == 0x22 || text[cursor + 1] == 0x5C else {
                            return "a chunk extension has a malformed quoted string"
                        }
                        cursor += 2
                        continue
                    }
                    guard isQuotedTextByte(byte) else { return "a chunk extension has a malformed quoted string" }
                    cursor += 1
                }
                guard closed else { return "a chunk extension has a quoted string without its closing quote" }
            } else if !token() {
                return "a chunk extension has an empty or malformed value"
            }
        }
    }

    private mutating func parseTrailers(_ head: Head, trailerBytes: Int) -> HTTPParserEvent {
        // trailer-section = *( field-line CRLF ) CRLF; trailers are checked and discarded.
        var lineStart = position
        var total = trailerBytes
        while true {
            var index = lineStart
            while index < buffer.count && buffer[index] != 0x0A { index += 1 }
            if index >= buffer.count {
                if total + (index - lineStart) > limits.maxHeaderBytes {
                    return fail(.headersTooLarge, "the trailer section is larger than \(limits.maxHeaderBytes) bytes")
                }
                position = lineStart
                state = .trailers(head, trailerBytes: total)
                return .needMoreData
            }
            guard index > lineStart, buffer[index - 1] == 0x0D else {
                // A reader given the bytes in smaller pieces would have refused an oversized section first.
                if total + (index - lineStart) > limits.maxHeaderBytes {
                    return fail(.headersTooLarge, "the trailer section is larger than \(limits.maxHeaderBytes) bytes")
                }
                return fail(.malformedChunk, "a trailer line does not end in CRLF")
            }
            total += index + 1 - lineStart
            if total > limits.maxHeaderBytes {
                return fail(.headersTooLarge, "the trailer section is larger than \(limits.maxHeaderBytes) bytes")
            }
            if index - 1 == lineStart {
                position = index + 1
                return complete(head, body: chunkedBody)
            }
            var discarded = HTTPHeaders()
            if let error = parseFields(lineStart..<index + 1, into: &discarded) {
                return fail(error.kind, error.detail)
            }
            lineStart = index + 1
        }
    }
}

/// What the connection should do next.
package enum HTTPParserEvent: Sendable {
    case needMoreData
    /// The head asked for `100 Continue` and its body has not started: send the interim response.
    case expectContinue
    case request(HTTPRequest)
    case failure(HTTPParseError)
}

@inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// qdtext (RFC 9110 §5.6.4): HTAB, SP, VCHAR except `"` and `\`, obs-text.
@inline(__always) func isQuotedTextByte(_ byte: UInt8) -> Bool {
    byte == 0x09 || byte == 0x20 || byte == 0x21 || (byte >= 0x23 && byte <= 0x5B) || (byte >= 0x5D && byte <= 0x7E) || byte >= 0x80
}

/// tchar (RFC 9110 §5.6.2).
@inline(__always) func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
    default: return false
    }
}
