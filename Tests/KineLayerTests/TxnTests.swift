import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct TxnTests {
    private func equal(_ key: String, version: Int64) -> TxnCompare {
        TxnCompare(range: .key(key), target: .version(version), relation: .equal)
    }

    @Test func allChangesOfATransactionShareOneRevision() async throws {
        try await withStore(testOptions()) { store, _ in
            try await store.create(.k("/t/a"), value: .k("old"))
            let before = try await store.currentRevision()
            let stream = try await store.watch(.prefix("/t/"))
            let result = try await store.txn(Txn(
                compares: [equal("/t/a", version: 1), equal("/t/missing", version: 0)],
                success: [.put(TxnPut(key: .k("/t/a"), value: .k("new"))), .put(TxnPut(key: .k("/t/b"), value: .k("b"))),
                          .range(RangeQuery(range: .prefix("/t/")))],
                failure: []))
            #expect(result.succeeded)
            #expect(result.revision == before + 1)
            // The range inside the transaction sees the transaction's own puts.
            guard case .range(let seen) = result.results[2] else { Issue.record("no range result"); return }
            #expect(seen.kvs.map(\.valueString) == ["new", "b"])
            #expect(seen.kvs.allSatisfy { $0.modRevision == before + 1 })
            guard case .put(let previous) = result.results[0] else { Issue.record("no put result"); return }
            #expect(previous?.valueString == "old")

            let events = try await collect(stream) { $0.count >= 2 }
            #expect(events.map(\.revision) == [before + 1, before + 1])
            #expect(events.map(\.kv.keyString) == ["/t/a", "/t/b"])
            #expect(try await store.currentRevision() == before + 1)
            // The next write gets the next revision.
            #expect(try await store.put(.k("/t/c"), value: .k("c")).kv.modRevision == before + 2)
        }
    }

    @Test func aFailedCompareRunsTheFailureBranch() async throws {
        try await withStore(testOptions()) { store, _ in
            let kv = try await store.create(.k("/f"), value: .k("v"))
            let result = try await store.txn(Txn(
                compares: [TxnCompare(range: .key("/f"), target: .value(.k("other")), relation: .equal)],
                success: [.deleteRange(.key("/f"))],
                failure: [.range(RangeQuery(range: .key("/f")))]))
            #expect(!result.succeeded)
            #expect(result.results == [.range(RangeResult(kvs: [kv], more: false, count: 1))])
            #expect(result.revision == kv.modRevision)
            // A value compare on a missing key fails; a version compare sees version 0.
            let missing = try await store.txn(Txn(compares: [TxnCompare(range: .key("/nope"), target: .value([]), relation: .equal)]))
            #expect(!missing.succeeded)
            let absent = try await store.txn(Txn(compares: [equal("/nope", version: 0)]))
            #expect(absent.succeeded)
        }
    }

    @Test func rangeComparesNeedEveryKey() async throws {
        try await withStore(testOptions()) { store, _ in
            try await store.create(.k("/r/1"), value: .k("x"))
            try await store.create(.k("/r/2"), value: .k("x"))
            let all = TxnCompare(range: .prefix("/r/"), target: .value(.k("x")), relation: .equal)
            #expect(try await store.txn(Txn(compares: [all])).succeeded)
            try await store.put(.k("/r/2"), value: .k("y"))
            #expect(!(try await store.txn(Txn(compares: [all])).succeeded))
            let greater = TxnCompare(range: .prefix("/r/"), target: .modRevision(0), relation: .greater)
            #expect(try await store.txn(Txn(compares: [greater])).succeeded)
        }
    }

    @Test func aFailingOperationUndoesTheWholeTransactionOnly() async throws {
        try await withStore(testOptions()) { store, _ in
            let before = try await store.currentRevision()
            // Submitted together, so they share a batch: the bad transaction fails alone.
            let bad = Task {
                try await store.txn(Txn(success: [
                    .put(TxnPut(key: .k("/u/a"), value: .k("a"))),
                    .put(TxnPut(key: .k("/u/b"), value: .k("b"), lease: 999)),
                ]))
            }
            try await store.put(.k("/ok"), value: .k("1"))
            await #expect(throws: KineError.leaseNotFound(id: 999)) { _ = try await bad.value }
            #expect(try await store.get(.k("/u/a")).kv == nil)
            #expect(try await store.currentRevision() == before + 1)
            #expect(try await store.put(.k("/after"), value: .k("x")).kv.modRevision == before + 2)
        }
    }

    @Test func deleteRangeDeletesEveryKeyAtOneRevision() async throws {
        try await withStore(testOptions()) { store, _ in
            for i in 0..<5 { try await store.create(.k("/d/\(i)"), value: .k("\(i)")) }
            try await store.create(.k("/keep"), value: .k("k"))
            let before = try await store.currentRevision()
            let result = try await store.txn(Txn(success: [.deleteRange(.prefix("/d/"))]))
            guard case .deleteRange(let deleted) = result.results[0] else { Issue.record("no delete result"); return }
            #expect(deleted.map(\.valueString) == ["0", "1", "2", "3", "4"])
            #expect(result.revision == before + 1)
            #expect(try await store.count(.prefix("/d/")).count == 0)
            #expect(try await store.count(.prefix("/d/"), revision: before).count == 5)
            // Deleting nothing changes nothing, and makes no revision.
            let empty = try await store.txn(Txn(success: [.deleteRange(.prefix("/d/"))]))
            #expect(empty.revision == before + 1)
        }
    }

    @Test func ignoreValueAndIgnoreLeaseKeepWhatTheKeyHas() async throws {
        try await withStore(testOptions()) { store, _ in
            let lease = try await store.grantLease(ttl: 600)
            try await store.create(.k("/i"), value: .k("value"), lease: lease.id)
            _ = try await store.txn(Txn(success: [.put(TxnPut(key: .k("/i"), value: [], ignoreValue: true, ignoreLease: true))]))
            let kv = try await store.get(.k("/i")).kv!
            #expect(kv.valueString == "value")
            #expect(kv.lease == lease.id)
            #expect(kv.version == 2)
            await #expect(throws: KineError.notFound(key: .k("/none"))) {
                _ = try await store.txn(Txn(success: [.put(TxnPut(key: .k("/none"), value: [], ignoreValue: true))]))
            }
        }
    }

    @Test func nestedTransactionsRunTheirOwnBranch() async throws {
        try await withStore(testOptions()) { store, _ in
            let result = try await store.txn(Txn(success: [
                .put(TxnPut(key: .k("/n/outer"), value: .k("o"))),
                .txn(Txn(compares: [equal("/n/outer", version: 1)],
                         success: [.put(TxnPut(key: .k("/n/inner"), value: .k("i")))])),
            ]))
            guard case .txn(let inner) = result.results[1] else { Issue.record("no nested result"); return }
            #expect(inner.succeeded)
            #expect(inner.revision == result.revision)
            #expect(try await store.get(.k("/n/inner")).kv?.modRevision == result.revision)
        }
    }

    @Test func rangeOptionsSortLimitAndFilter() async throws {
        try await withStore(testOptions()) { store, _ in
            try await store.create(.k("/s/b"), value: .k("2"))
            try await store.create(.k("/s/a"), value: .k("3"))
            try await store.create(.k("/s/c"), value: .k("1"))
            try await store.put(.k("/s/b"), value: .k("4"))
            var query = RangeQuery(range: .prefix("/s/"))
            query.sortTarget = .value
            query.sortOrder = .descending
            query.limit = 2
            let (_, sorted) = try await store.range(query)
            #expect(sorted.kvs.map(\.keyString) == ["/s/b", "/s/a"])
            #expect(sorted.more)
            #expect(sorted.count == 3)

            var filtered = RangeQuery(range: .prefix("/s/"))
            filtered.minModRevision = 4
            filtered.keysOnly = true
            let (_, recent) = try await store.range(filtered)
            #expect(recent.kvs.map(\.keyString) == ["/s/b", "/s/c"])
            #expect(recent.kvs.allSatisfy { $0.value.isEmpty })

            var counting = RangeQuery(range: .prefix("/s/"))
            counting.countOnly = true
            #expect(try await store.range(counting).result == RangeResult(kvs: [], more: false, count: 3))
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct LargeTxnTests {
    /// A delete of more keys than one revision holds still succeeds, atomically, on
    /// consecutive revisions.
    @Test func deletingMoreKeysThanARevisionHoldsSpillsToTheNextRevision() async throws {
        try await withStore(testOptions()) { store, _ in
            let n = Int(RowID.maxChangesPerRevision) + 10
            for chunk in stride(from: 0, to: n, by: 1000) {
                _ = try await store.txn(Txn(success: (chunk..<min(chunk + 1000, n)).map { i in
                    .put(TxnPut(key: .k("/big/\(String(i, radix: 16))"), value: .k("v")))
                }))
            }
            let before = try await store.currentRevision()
            let result = try await store.txn(Txn(success: [.deleteRange(.prefix("/big/"))]))
            guard case .deleteRange(let deleted) = result.results[0] else { Issue.record("no delete result"); return }
            #expect(deleted.count == n)
            #expect(result.revision == before + 2)
            #expect(try await store.count(.prefix("/big/")).count == 0)
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct TxnSavepointTests {
    /// A transaction that had to read SQL (a range compare, a prefix delete) and then fails is
    /// rolled back alone; writes batched before and after it stay.
    @Test func aFailingTransactionThatReadSQLIsUndoneAlone() async throws {
        try await withStore(testOptions()) { store, _ in
            for i in 0..<5 { try await store.create(.k("/sp/\(i)"), value: .k("v")) }
            let before = try await store.currentRevision()
            async let first = store.put(.k("/sp/before"), value: .k("b"))
            let bad = Task {
                try await store.txn(Txn(compares: [TxnCompare(range: .prefix("/sp/"), target: .version(0), relation: .greater)],
                                        success: [.deleteRange(.prefix("/sp/")), .put(TxnPut(key: .k("/sp/x"), value: .k("x"), lease: 4711))]))
            }
            async let after = store.put(.k("/sp/after"), value: .k("a"))
            _ = try await (first, after)
            await #expect(throws: KineError.leaseNotFound(id: 4711)) { _ = try await bad.value }
            #expect(try await store.count(.prefix("/sp/")).count == 7)
            #expect(try await store.currentRevision() == before + 2)
        }
    }
}
