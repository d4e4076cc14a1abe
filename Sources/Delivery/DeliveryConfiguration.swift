import Exchange

/// How refex delivers: its client certificate, time limits, retries, and per-recipient limits.
package struct DeliveryConfiguration: Sendable {
    /// refex's client certificate and key (PEM), presented to every push recipient.
    package var clientCertificatePEM: [UInt8]
    package var clientKeyPEM: [UInt8]
    package var connectTimeout: Duration
    /// For one attempt, connection included.
    package var attemptTimeout: Duration
    package var schedule: RetrySchedule
    /// Attempts in flight to one recipient at most.
    package var concurrencyPerRecipient: Int
    /// Failures in a row that open a recipient's circuit, and how long it stays open at first.
    package var circuitThreshold: Int
    package var circuitOpenFor: Duration
    /// How often the outbox is checked for due items (a commit that enqueues also wakes it).
    package var pollInterval: Duration

    package init(
        clientCertificatePEM: [UInt8], clientKeyPEM: [UInt8], connectTimeout: Duration = .seconds(5),
        attemptTimeout: Duration = .seconds(30), schedule: RetrySchedule = RetrySchedule(), concurrencyPerRecipient: Int = 2,
        circuitThreshold: Int = 5, circuitOpenFor: Duration = .seconds(30), pollInterval: Duration = .milliseconds(250)
    ) {
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.connectTimeout = connectTimeout
        self.attemptTimeout = attemptTimeout
        self.schedule = schedule
        self.concurrencyPerRecipient = concurrencyPerRecipient
        self.circuitThreshold = circuitThreshold
        self.circuitOpenFor = circuitOpenFor
        self.pollInterval = pollInterval
    }

    /// How long a claim on an outbox item lasts: an attempt, and 15 s to spare for building it and
    /// recording its outcome (an attempt starts only with more than `attemptTimeout` of it left).
    /// A process that dies holding claims delays their items this long at most.
    package var lease: Duration { attemptTimeout + .seconds(15) }
}
