internal import COpenSSL

/// OpenSSL's per-thread error queue, drained into text so that no caller prints it or leaves
/// it for the next call to misread.
package enum OpenSSLErrorQueue {
    /// Every queued error, oldest first, as OpenSSL's one-line descriptions; the queue is left empty.
    package static func drain() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages
    }

    package static func clear() { ERR_clear_error() }
}
