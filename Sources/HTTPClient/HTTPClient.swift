import Foundation
import Timekeeping
internal import CCurl

/// What an outbound client presents and how long it waits.
package struct HTTPClientConfiguration: Sendable {
    /// refex's own client certificate (PEM) and key, presented to every recipient.
    package var certificatePEM: [UInt8]
    package var privateKeyPEM: [UInt8]
    /// The CA the server's certificate must chain to (PEM).
    package var trustedCAPEM: [UInt8]
    package var connectTimeout: Duration
    /// For the whole exchange, connection included.
    package var totalTimeout: Duration
    /// The most response body kept (the rest is read and dropped).
    package var maxResponseBytes: Int

    package init(
        certificatePEM: [UInt8], privateKeyPEM: [UInt8], trustedCAPEM: [UInt8],
        connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30), maxResponseBytes: Int = 64 * 1024
    ) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.trustedCAPEM = trustedCAPEM
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// What came back: a response, or why there was none.
package enum HTTPClientOutcome: Sendable {
    case response(status: Int, headers: [(name: String, value: String)], body: [UInt8])
    case failure(HTTPClientError)
}

/// No response: the connection, TLS or a time limit failed.
package struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: String, Sendable { case connect, tls, timeout, other }
    package var kind: Kind
    package var message: String

    package var description: String { "\(kind.rawValue): \(message)" }
}

private let curlInitialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

/// HTTPS with refex's client certificate, over one libcurl easy handle (so that connections are
/// kept alive between requests). Not thread-safe: one per worker thread.
///
/// TLS 1.2 at least, the server checked against the configured CA and the URL's host name, no
/// proxies, no redirects, https only.
package final class HTTPClient {
    private let handle: UnsafeMutableRawPointer
    private let configuration: HTTPClientConfiguration

    package init(_ configuration: HTTPClientConfiguration) throws {
        guard curlInitialised, let handle = curl_easy_init() else {
            throw HTTPClientError(kind: .other, message: "libcurl could not be initialised")
        }
        self.handle = handle
        self.configuration = configuration
        var ok = true
        func set(_ code: CURLcode) { ok = ok && code == CURLE_OK }
        set(refex_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(refex_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(refex_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        set(refex_curl_setopt_long(handle, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2)))
        set(refex_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "https"))
        set(refex_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        // Never send personal data through a proxy the environment happens to name.
        set(refex_curl_setopt_string(handle, CURLOPT_NOPROXY, "*"))
        set(refex_curl_setopt_string(handle, CURLOPT_SSLCERTTYPE, "PEM"))
        set(refex_curl_setopt_string(handle, CURLOPT_SSLKEYTYPE, "PEM"))
        set(configuration.certificatePEM.withUnsafeBytes { refex_curl_setopt_blob(handle, CURLOPT_SSLCERT_BLOB, $0.baseAddress, $0.count) })
        set(configuration.privateKeyPEM.withUnsafeBytes { refex_curl_setopt_blob(handle, CURLOPT_SSLKEY_BLOB, $0.baseAddress, $0.count) })
        set(configuration.trustedCAPEM.withUnsafeBytes { refex_curl_setopt_blob(handle, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) })
        set(refex_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.wholeMilliseconds)))
        set(refex_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(configuration.totalTimeout.wholeMilliseconds)))
        set(refex_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1))
        guard ok else {
            curl_easy_cleanup(handle)
            throw HTTPClientError(kind: .other, message: "libcurl refused an option (is it the OpenSSL flavour, 7.77 or later?)")
        }
    }

    deinit { curl_easy_cleanup(handle) }

    /// POSTs `body` to `url` with `headers`; blocks until a response, a failure or the timeout.
    package func post(_ url: String, body: [UInt8], headers: [(String, String)]) -> HTTPClientOutcome {
        let collector = ResponseCollector(limit: configuration.maxResponseBytes)
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        // libcurl adds "Expect: 100-continue" to larger bodies; recipients need not support it.
        list = curl_slist_append(list, "Expect:")
        defer { curl_slist_free_all(list) }
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }

        _ = refex_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = refex_curl_setopt_long(handle, CURLOPT_POST, 1)
        _ = refex_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        // COPYPOSTFIELDS copies: the Swift array need not outlive this call.
        _ = body.withUnsafeBytes { refex_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1))) }
        _ = refex_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        _ = refex_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let context, let data else { return 0 }
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
            collector.appendBody(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        _ = refex_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = refex_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let context, let data else { return 0 }
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
            collector.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        _ = refex_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { return .failure(HTTPClientClassifier.error(code)) }
        var status = 0
        _ = refex_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .response(status: status, headers: collector.headers, body: collector.body)
    }
}

enum HTTPClientClassifier {
    static func error(_ code: CURLcode) -> HTTPClientError {
        let text = curl_easy_strerror(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPClientError(kind: .timeout, message: text)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
            return HTTPClientError(kind: .connect, message: text)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE:
            return HTTPClientError(kind: .tls, message: text)
        default:
            return HTTPClientError(kind: .other, message: text)
        }
    }
}

/// Collects one response's headers and (bounded) body from libcurl's callbacks.
final class ResponseCollector {
    private let limit: Int
    private(set) var body: [UInt8] = []
    private(set) var headers: [(name: String, value: String)] = []

    init(limit: Int) { self.limit = limit }

    func appendBody(_ bytes: UnsafeRawBufferPointer) {
        let room = max(0, limit - body.count)
        body.append(contentsOf: bytes.prefix(room))
    }

    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // A new status line (after 100 Continue, say) starts a new header block.
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":"), headers.count < 100 else { return }
        headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
}
