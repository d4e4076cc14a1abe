import Foundation
import HTTP
import Logging
import Metrics
import XCTest
@testable import Server

/// The server in-process on a plain loopback listener, spoken to over a real socket.
final class HTTPServerTests: XCTestCase {
    /// Holds `/held`'s answer until the test opens it; signals when the handler has started.
    final class Gate: Sendable {
        let entered = DispatchSemaphore(value: 0)
        let opened = DispatchSemaphore(value: 0)
    }

    struct EchoResponder: HTTPResponder {
        var gate = Gate()

        func reply(to request: HTTPRequest, on connection: ConnectionContext) -> Reply {
            if request.path == "/held" {
                let gate = self.gate
                return .later {
                    gate.entered.signal()
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        Thread {
                            gate.opened.wait()
                            continuation.resume()
                        }.start()
                    }
                    return HTTPResponse(text: "held")
                }
            }
            if request.path == "/big" {
                return .now(HTTPResponse(text: String(repeating: "x", count: HTTPServerTests.bigBodySize)))
            }
            if request.path == "/slow" {
                return .later {
                    try? await Task.sleep(for: .milliseconds(50))
                    return HTTPResponse(text: "slow")
                }
            }
            if request.path == "/threads" {
                // As a store write: the work waits on another thread (the writer) that resumes it.
                return .later {
                    let before = currentThreadName()
                    let writer = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
                        Thread { continuation.resume(returning: currentThreadName()) }.start()
                    }
                    return HTTPResponse(text: "\(before)|\(writer)|\(currentThreadName())")
                }
            }
            return .now(HTTPResponse(text: String(request.path)))
        }
        func reply(toMalformed error: HTTPParseError, on connection: ConnectionContext) -> HTTPResponse { Problem(error).response }
        func replyAtConnectionLimit(on connection: ConnectionContext) -> HTTPResponse { HTTPResponse(status: .serviceUnavailable) }
    }

    static let bigBodySize = 16 << 20

    private func start(
        _ configuration: ServerConfiguration = ServerConfiguration(eventLoops: 2), responder: EchoResponder = EchoResponder()
    ) throws -> (HTTPServer, UInt16) {
        let fd = try Socket.listen(on: ListenAddress(host: "127.0.0.1", port: 0))
        let port = try XCTUnwrap(Socket.localAddress(of: fd)).port
        let server = try HTTPServer(configuration: configuration, metrics: MetricsRegistry(), logger: Logger(sink: InMemoryLogSink()))
        try server.addListener(ListenerSpec(name: "test", fd: fd, tls: nil, responder: responder, maxConnections: 10))
        server.start()
        return (server, port)
    }

    /// A connected client socket whose reads give up after `seconds`; `receiveBuffer`: its SO_RCVBUF, if set.
    private func connect(_ port: UInt16, seconds: Int = 5, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw SystemCallError("connect")
        }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Reads one response whose body has a Content-Length; nil if the server closes or stops first.
    private func readResponse(_ fd: Int32) -> String? {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            received.append(byte)
            let text = String(decoding: received, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
            let length = text[..<headEnd.lowerBound].split(separator: "\r\n").dropFirst()
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.count - text.utf8.distance(from: text.utf8.startIndex, to: headEnd.upperBound) >= length { return text }
        }
        return nil
    }

    /// Sends `text`, reads until the server closes or `seconds` pass.
    private func exchange(_ port: UInt16, _ text: String, seconds: Int = 5) throws -> String {
        let fd = try connect(port, seconds: seconds)
        defer { close(fd) }
        send(fd, text)
        return readUntilClosed(fd)
    }

    /// Everything the server sends until it closes (or the socket's read limit passes).
    private func readUntilClosed(_ fd: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    func testAnswersPipelinedRequestsInOrderEvenWhenOneIsDeferred() throws {
        let (server, port) = try start()
        defer { server.shutdown() }
        let text = try exchange(port, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "H" } }
        XCTAssertEqual(bodies, ["/a", "slow", "/c"])
    }

    /// Issue 17: a deferred answer crosses two thread hand-offs, loop → writer → loop: the
    /// handler starts on the loop that read the request, and the writer's answer resumes it on
    /// that loop, which writes the response itself (no cooperative-pool thread in between).
    func testADeferredAnswerStartsAndFinishesOnTheLoopThatReadTheRequest() throws {
        let (server, port) = try start()
        defer { server.shutdown() }
        let text = try exchange(port, "GET /threads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let body = try XCTUnwrap(text.components(separatedBy: "\r\n\r\n").last)
        let names = body.split(separator: "|").map(String.init)
        XCTAssertEqual(names.count, 3, text)
        XCTAssertTrue(names[0].hasPrefix("refex-loop-"), "the handler ran on \(names[0])")
        XCTAssertNotEqual(names[1], names[0], "the stand-in writer is another thread")
        XCTAssertEqual(names[2], names[0], "resumed on the same loop thread, not a pool thread")
    }

    /// Readable interest stays registered while a request is in flight (no epoll_ctl per request):
    /// requests pipelined behind it arrive meanwhile, wait in the buffer, and are answered after
    /// it, in order.
    func testRequestsArrivingWhileOneIsInFlightAreAnsweredAfterItInOrder() throws {
        let responder = EchoResponder()
        let (server, port) = try start(responder: responder)
        defer { server.shutdown() }
        let fd = try connect(port)
        defer { close(fd) }
        send(fd, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(responder.gate.entered.wait(timeout: .now() + 5), .success, "the held request reached its handler")
        send(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        responder.gate.opened.signal()
        let text = readUntilClosed(fd)
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "H" } }
        XCTAssertEqual(bodies, ["held", "/a", "/c"], text)
    }

    /// The peer shuts its sending side while its request is in flight: the end of input is read
    /// (no spinning on a readable socket), the answer still goes out, then the connection closes.
    func testAPeerThatStopsSendingWhileItsRequestIsInFlightGetsItsAnswerThenTheClose() throws {
        let responder = EchoResponder()
        let (server, port) = try start(responder: responder)
        defer { server.shutdown() }
        let fd = try connect(port)
        defer { close(fd) }
        send(fd, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(responder.gate.entered.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(Glibc.shutdown(fd, Int32(SHUT_WR)), 0)
        responder.gate.opened.signal()
        let text = readUntilClosed(fd)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 "), text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\nheld"), text)
    }

    /// An answer far larger than the socket takes at once (the write returns EAGAIN; the
    /// connection waits for writability) is finished as the client reads, and the request
    /// pipelined behind it is then read and answered on the same connection.
    func testAnAnswerTheSocketCannotTakeAtOnceIsFinishedAndTheNextRequestIsServed() throws {
        let (server, port) = try start()
        defer { server.shutdown() }
        let fd = try connect(port, seconds: 20, receiveBuffer: 4096)
        defer { close(fd) }
        send(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let text = readUntilClosed(fd)
        let parts = text.components(separatedBy: "\r\n\r\n")
        XCTAssertEqual(parts.count, 3, "two responses")
        guard parts.count == 3 else { return }
        XCTAssertTrue(parts[0].hasPrefix("HTTP/1.1 200 "))
        XCTAssertTrue(parts[0].lowercased().contains("content-length: \(HTTPServerTests.bigBodySize)"), parts[0])
        XCTAssertEqual(parts[1].prefix { $0 == "x" }.utf8.count, HTTPServerTests.bigBodySize, "the whole first body")
        XCTAssertTrue(parts[1].drop { $0 == "x" }.hasPrefix("HTTP/1.1 200 "), "then the second answer")
        XCTAssertEqual(parts[2], "/after")
    }

    func testMalformedRequestGetsItsStatusAndTheConnectionCloses() throws {
        let (server, port) = try start()
        defer { server.shutdown() }
        let text = try exchange(port, "GET / HTTP/9.9\r\nHost: x\r\n\r\n")
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 505 "), text)
        XCTAssertTrue(text.contains("Connection: close"))
    }

    func testSlowHeaderGets408() throws {
        var configuration = ServerConfiguration(eventLoops: 1)
        configuration.headerTimeout = .milliseconds(300)
        let (server, port) = try start(configuration)
        defer { server.shutdown() }
        let started = Date()
        let text = try exchange(port, "GET / HTTP/1.1\r\nHost:")
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 408 "), text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    /// A kept-alive connection whose request is answered (nothing in flight, nothing to write) is
    /// closed at once by a shutdown, which returns well before the drain time or the idle limit.
    func testShutdownClosesIdleConnectionsAndReturns() throws {
        var configuration = ServerConfiguration(eventLoops: 2)
        configuration.drainTimeout = .seconds(10)
        configuration.idleTimeout = .seconds(60)
        let (server, port) = try start(configuration)
        let fd = try connect(port)
        defer { close(fd) }
        send(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = try XCTUnwrap(readResponse(fd))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 "), answer)
        XCTAssertFalse(answer.lowercased().contains("connection: close"), "kept alive: \(answer)")
        XCTAssertEqual(server.openConnections, 1, "the connection is open and idle")

        let started = Date()
        server.shutdown()
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 2, "shutdown took \(elapsed) s: it waited for the idle connection instead of closing it")
        XCTAssertEqual(server.openConnections, 0)
        var byte: UInt8 = 0
        XCTAssertEqual(recv(fd, &byte, 1, 0), 0, "the client sees the connection closed, and nothing more")
    }
}

/// The calling thread's name as the kernel knows it, and its id.
private func currentThreadName() -> String {
    let name = ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    return "\(name)#\(pthread_self())"
}
