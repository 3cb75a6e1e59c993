import Foundation
import Storage
import Synchronization
import Testing
import TestSupport
@testable import KineLayer

/// A real SQLite database that behaves, where a test needs it, as a member of a replicated
/// one: its write lock is, once, held by "another member" (the first write transaction
/// after ``hold()`` waits until ``release()``, as a dqlite member's does while another
/// member's commit holds the leader's lock), it counts write transactions, and it states
/// the transaction sizes it prefers.
final class HeldLockDatabase: SQLDatabase {
    private let inner: SQLiteDatabase
    private let state = Mutex((holding: false, waiting: 0, transactions: 0))
    private let gate: AsyncStream<Void>
    private let opener: AsyncStream<Void>.Continuation
    let preferredTransactionSize: TransactionSize?

    init(path: String, preferredTransactionSize: TransactionSize? = nil) throws {
        inner = try SQLiteDatabase(SQLiteConfiguration(path: path))
        (gate, opener) = AsyncStream<Void>.makeStream()
        self.preferredTransactionSize = preferredTransactionSize
    }

    func hold() { state.withLock { $0.holding = true } }
    func release() { opener.yield() }
    /// Write transactions waiting at the held lock.
    var waiting: Int { state.withLock { $0.waiting } }
    /// Write transactions begun (past the lock).
    var transactions: Int { state.withLock { $0.transactions } }

    var maxParametersPerStatement: Int { inner.maxParametersPerStatement }

    func write<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        let held = state.withLock { s in
            defer { s.holding = false }
            if s.holding { s.waiting += 1 }
            return s.holding
        }
        if held {
            for await _ in gate { break }
            state.withLock { $0.waiting -= 1 }
        }
        state.withLock { $0.transactions += 1 }
        return try await inner.write(body)
    }

    func read<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T { try await inner.read(body) }
    func reclaimSpace() async throws { try await inner.reclaimSpace() }
    func sizeInBytes() async throws -> Int64 { try await inner.sizeInBytes() }
    func usedBytes() async throws -> Int64 { try await inner.usedBytes() }
    func backup(to path: String) async throws { try await inner.backup(to: path) }
    func close() async { await inner.close() }
}

@Suite struct GroupCommitTests {
    /// Requests that queue while a batch waits for the write lock join that batch: it is
    /// taken from the queue when its transaction starts, not when it begins to wait.
    @Test(.timeLimit(.minutes(1)))
    func requestsQueuedWhileTheLockIsHeldJoinTheWaitingBatch() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try HeldLockDatabase(path: dir.path + "/kine.db")
        let store = try await KineStore(database: db, options: testOptions(.group(maxBatch: 64)))
        let before = db.transactions
        db.hold()
        let writes = Task {
            try await withThrowingTaskGroup(of: Int64.self) { group in
                group.addTask { try await store.create(.k("/first"), value: .k("v")).modRevision }
                // The first create's transaction is now waiting at the lock.
                let deadline = ContinuousClock.now + .seconds(20)
                while db.waiting == 0 {
                    guard ContinuousClock.now < deadline else { throw TimedOut() }
                    try await Task.sleep(for: .milliseconds(2))
                }
                for i in 0..<20 {
                    group.addTask { try await store.create(.k("/later/\(i)"), value: .k("v")).modRevision }
                }
                // Every later create is queued before the lock is released.
                while store.queuedWrites < 20 {
                    guard ContinuousClock.now < deadline else { throw TimedOut() }
                    try await Task.sleep(for: .milliseconds(2))
                }
                db.release()
                var revisions: [Int64] = []
                for try await revision in group { revisions.append(revision) }
                return revisions
            }
        }
        let revisions = try await writes.value
        #expect(revisions.count == 21)
        #expect(Set(revisions).count == 21, "every create has its own revision: \(revisions.sorted())")
        #expect(db.transactions - before == 1, "21 creates took \(db.transactions - before) transactions")
        #expect(try await store.count(.prefix("/later/")).count == 20)
        await store.close()
    }
}
