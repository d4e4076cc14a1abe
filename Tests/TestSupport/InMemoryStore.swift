import Exchange
import Foundation
import Synchronization

/// An `ExchangeStore` held in memory, for testing the domain in process and as the second
/// implementation the store conformance suite (`StoreConformance`) runs against.
///
/// It behaves like the SQLite store wherever the domain can tell: a write sees the committed
/// state and its own changes; a write whose body throws leaves nothing (its copy of the tables
/// is dropped) while the writes around it commit; reads see committed state only and cannot
/// change anything; log entries are sealed into one hash chain that `LogVerifier` accepts;
/// uniqueness and references are enforced as the SQLite schema enforces them; orderings and
/// cursors are the SQL queries'. Time comes from the injected clock, read once per transaction.
///
/// Durability is the `InMemoryStoreState` object: a store opened again over the same state is
/// the same store after a restart.
package final class InMemoryStore: ExchangeStore {
    /// The committed state; another `InMemoryStore` over it is this store reopened.
    package let state: InMemoryStoreState
    private let clock: @Sendable () -> Timestamp

    package init(state: InMemoryStoreState = InMemoryStoreState(), clock: @escaping @Sendable () -> Timestamp = { Timestamp(Date()) }) {
        self.state = state
        self.clock = clock
    }

    package func write<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        try state.write { committed in
            let transaction = InMemoryTransaction(tables: committed, now: clock(), isReadOnly: false)
            let result = try body(transaction)
            committed = transaction.tables
            return result
        }
    }

    package func read<Result: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> Result) async throws -> Result {
        try body(InMemoryTransaction(tables: state.tables, now: clock(), isReadOnly: true))
    }
}

/// What an in-memory store keeps between restarts: its committed tables. Writers take turns;
/// readers take a snapshot without waiting for them.
package final class InMemoryStoreState: Sendable {
    private let committed = Mutex(InMemoryTables())
    private let writer = Mutex(())

    package init() {}

    /// A snapshot of the committed tables.
    package var tables: InMemoryTables { committed.withLock { $0 } }

    /// Changes the committed tables directly, outside any transaction: for tests that set up
    /// what an older refex left (a plain-text justification) or that damage the store.
    package func modify(_ change: (inout InMemoryTables) -> Void) {
        writer.withLock { _ in committed.withLock { change(&$0) } }
    }

    /// Runs `body` on a copy of the committed tables and publishes the copy only if it returns.
    func write<Result>(_ body: (inout InMemoryTables) throws -> Result) throws -> Result {
        try writer.withLock { _ in
            var copy = committed.withLock { $0 }
            let result = try body(&copy)
            committed.withLock { $0 = copy }
            return result
        }
    }
}
