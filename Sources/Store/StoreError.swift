/// The store could not be opened, or could not commit. `description` names the file and what to
/// do; it never holds personal data or key material.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// Anything else (a bug, a constraint, a lock held too long by another process).
        case other
        /// The write could not be stored now (a full disk, an I/O error, the store closing); it
        /// may succeed later: HTTP 503 with `Retry-After`.
        case unavailable
        /// A database file is damaged: nothing more is acknowledged until it is restored.
        case corrupt
        /// The files are not one store, or not this master key's (refused at start).
        case identity
        /// A store file is missing, or there is no store yet.
        case missing
        /// A copy opened read-only was asked to change.
        case readOnlyCopy
        /// A row holds what refex cannot read (an unknown state, a wrong type): the description
        /// names the table and column.
        case malformedRow
        /// The database server or session is set up so that a commit may not be durable
        /// (PostgreSQL `fsync=off`, `synchronous_commit=off`): the description names the setting.
        case unsafeSetting
    }

    package var kind: Kind
    package var description: String
    /// For `unavailable` and `corrupt`: when to try again, in seconds.
    package var retryAfterSeconds: Int

    /// A write asked of the store after `close()` began: refex is stopping, nothing failed.
    /// Background work that resumes at the next start (backfills, timers) ends quietly on it.
    package private(set) var isStoreClosed = false

    package init(_ description: String, kind: Kind = .other, retryAfterSeconds: Int = 5) {
        self.kind = kind
        self.description = description
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// What a write gets once the store is closing (HTTP 503 to a request that races the stop).
    package static var storeClosed: StoreError {
        var error = StoreError("the store is closed", kind: .unavailable)
        error.isStoreClosed = true
        return error
    }

    /// Whether a request that failed with this error should be answered 503 (try again later).
    package var isUnavailable: Bool { kind == .unavailable || kind == .corrupt }
}
