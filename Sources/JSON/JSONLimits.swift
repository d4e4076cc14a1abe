/// Bounds that the parser enforces on every document, so that a hostile sender cannot
/// exhaust the stack, memory or time of the daemon.
///
/// The defaults suit referrals and configuration files; raise them only for trusted input.
package struct JSONLimits: Sendable, Hashable {
    /// The deepest nesting of arrays and objects allowed (a top-level `[]` is depth 1).
    /// Values above 1,000 act as 1,000: deeper values could exhaust a thread's stack in
    /// the recursive code that compares, hashes, serializes and frees them.
    package var maxDepth: Int
    /// The longest string (key or value) allowed, in UTF-8 bytes after unescaping.
    package var maxStringBytes: Int
    /// The most members one object, or elements one array, may have.
    package var maxMembers: Int
    /// The largest document accepted, in bytes.
    package var maxDocumentBytes: Int

    /// Creates limits; every parameter has a conservative default.
    package init(
        maxDepth: Int = 64,
        maxStringBytes: Int = 1 << 20,
        maxMembers: Int = 100_000,
        maxDocumentBytes: Int = 16 << 20
    ) {
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxMembers = maxMembers
        self.maxDocumentBytes = maxDocumentBytes
    }
}
