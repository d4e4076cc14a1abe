/// The most a client may send; beyond these a request is refused with the matching status.
package struct HTTPParserLimits: Sendable, Hashable {
    /// The request-target (path and query); longer is 414.
    package var maxTargetBytes: Int
    /// The header section after the request line, as received; larger is 431.
    package var maxHeaderBytes: Int
    /// The number of header fields; more is 431.
    package var maxHeaderCount: Int
    /// The body after any chunked framing is removed; larger is 413.
    package var maxBodyBytes: Int

    package init(
        maxTargetBytes: Int = 8 * 1024,
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 128,
        maxBodyBytes: Int = 1024 * 1024
    ) {
        self.maxTargetBytes = maxTargetBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
