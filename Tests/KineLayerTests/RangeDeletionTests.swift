import Storage
import Testing
import TestSupport
@testable import KineLayer

@Suite struct RangeDeletionTests {
    /// On a database that bounds a request's transaction, a range deletion of more keys goes
    /// in steps of that many keys, in key order, one transaction each; it deletes every key
    /// of the range and no other, and answers with all of them.
    @Test(.timeLimit(.minutes(1)))
    func aLargeRangeIsDeletedInStepsOfTheDatabasesRequestSize() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try HeldLockDatabase(path: dir.path + "/kine.db",
                                      preferredTransactionSize: TransactionSize(changes: 64, bytes: 1 << 20, requestChanges: 3))
        let store = try await KineStore(database: db, options: testOptions())
        for i in 0..<10 { _ = try await store.put(.k("/range/\(i)"), value: .k("v\(i)")) }
        _ = try await store.put(.k("/rangez"), value: .k("outside"))
        _ = try await store.put(.k("/ran"), value: .k("outside"))
        _ = try await store.delete(.k("/range/4"))
        let before = db.transactions

        let result = try await store.deleteRange(.prefix("/range/"))

        guard case .deleteRange(let deleted)? = result.results.first else {
            Issue.record("no deletion result: \(result)")
            return
        }
        #expect(deleted.map { String(decoding: $0.key, as: UTF8.self) } == [0, 1, 2, 3, 5, 6, 7, 8, 9].map { "/range/\($0)" })
        #expect(deleted.map { String(decoding: $0.value, as: UTF8.self) } == [0, 1, 2, 3, 5, 6, 7, 8, 9].map { "v\($0)" })
        // 9 live keys in steps of 3: three transactions, and a fourth that finds none left.
        #expect((3...4).contains(db.transactions - before), "\(db.transactions - before) transactions")
        #expect(try await store.count(.prefix("/range/")).count == 0)
        #expect(try await store.get(.k("/rangez")).kv?.value == .k("outside"))
        #expect(try await store.get(.k("/ran")).kv?.value == .k("outside"))
        #expect(result.revision == (try await store.currentRevision()))
        await store.close()
    }

    /// Without a bound, a range deletion is one transaction, at one revision.
    @Test(.timeLimit(.minutes(1)))
    func withoutABoundARangeIsDeletedInOneTransaction() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try HeldLockDatabase(path: dir.path + "/kine.db")
        let store = try await KineStore(database: db, options: testOptions())
        for i in 0..<10 { _ = try await store.put(.k("/range/\(i)"), value: .k("v")) }
        let revision = try await store.currentRevision()
        let before = db.transactions
        let result = try await store.deleteRange(.prefix("/range/"))
        #expect(db.transactions - before == 1)
        #expect(result.revision == revision + 1)
        #expect(try await store.count(.prefix("/range/")).count == 0)
        await store.close()
    }
}
