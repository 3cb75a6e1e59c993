import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct KineStoreTests {
    @Test func createGetUpdateDeleteWithRevisions() async throws {
        try await withStore(testOptions()) { store, _ in
            let created = try await store.create(.k("/a"), value: .k("1"))
            #expect(created.createRevision == created.modRevision)
            #expect(created.version == 1)

            await #expect(throws: KineError.keyExists(current: created)) {
                try await store.create(.k("/a"), value: .k("again"))
            }

            let updated = try await store.update(.k("/a"), value: .k("2"), expectedModRevision: created.modRevision)
            #expect(updated.modRevision == created.modRevision + 1)
            #expect(updated.createRevision == created.createRevision)
            #expect(updated.version == 2)

            await #expect(throws: KineError.conflict(current: updated)) {
                try await store.update(.k("/a"), value: .k("stale"), expectedModRevision: created.modRevision)
            }
            await #expect(throws: KineError.notFound(key: .k("/missing"))) {
                try await store.update(.k("/missing"), value: .k("x"), expectedModRevision: 1)
            }

            // Reads at old revisions see old values.
            #expect(try await store.get(.k("/a"), revision: created.modRevision).kv?.valueString == "1")
            #expect(try await store.get(.k("/a")).kv?.valueString == "2")

            let (deleteRevision, deleted) = try await store.delete(.k("/a"), expectedModRevision: updated.modRevision)
            #expect(deleted == updated)
            #expect(deleteRevision == updated.modRevision + 1)
            #expect(try await store.get(.k("/a")).kv == nil)
            #expect(try await store.get(.k("/a"), revision: updated.modRevision).kv?.valueString == "2")
            await #expect(throws: KineError.notFound(key: .k("/a"))) { try await store.delete(.k("/a")) }

            // Recreating starts a new life: version 1, new create revision.
            let again = try await store.create(.k("/a"), value: .k("3"))
            #expect(again.version == 1)
            #expect(again.createRevision == deleteRevision + 1)
            #expect(try await store.currentRevision() == again.modRevision)

            await #expect(throws: KineError.futureRevision(requested: 1000, current: again.modRevision)) {
                try await store.get(.k("/a"), revision: 1000)
            }
        }
    }

    /// A delete range over more keys than HeapTrim's threshold (the write after which the
    /// heap is trimmed) removes them all at one revision, and the store goes on.
    @Test func aDeleteRangeOverThousandsOfKeysIsOneRevision() async throws {
        try await withStore(testOptions()) { store, _ in
            let count = HeapTrim.changesThreshold + 1
            for start in stride(from: 0, to: count, by: 1000) {
                let puts = (start..<min(start + 1000, count)).map { TxnOperation.put(TxnPut(key: .k("/many/\($0)"), value: .k("v"))) }
                _ = try await store.txn(Txn(success: puts))
            }
            let before = try await store.currentRevision()
            let result = try await store.txn(Txn(success: [.deleteRange(.prefix("/many/"))]))
            guard case .deleteRange(let deleted)? = result.results.first else {
                Issue.record("unexpected result \(result.results)")
                return
            }
            #expect(deleted.count == count)
            #expect(result.revision == before + 1)
            #expect(try await store.count(.prefix("/many/")).count == 0)
            let after = try await store.create(.k("/many/again"), value: .k("v"))
            #expect(after.modRevision == before + 2)
            // Each tombstone points at the row it superseded: compaction removes both.
            #expect(try await store.compact(to: after.modRevision) == Int64(2 * count))
        }
    }

    @Test func putReturnsPreviousAndLeaseMustExist() async throws {
        try await withStore(testOptions()) { store, _ in
            let (first, none) = try await store.put(.k("/p"), value: .k("x"))
            #expect(none == nil)
            let (second, previous) = try await store.put(.k("/p"), value: .k("y"))
            #expect(previous == first)
            #expect(second.version == 2)
            await #expect(throws: KineError.leaseNotFound(id: 77)) {
                try await store.put(.k("/p"), value: .k("z"), lease: 77)
            }
            await #expect(throws: KineError.invalidArgument("key must not be empty")) {
                try await store.put([], value: .k("z"))
            }
        }
    }

    @Test func listRangesLimitsCountsAndRevisions() async throws {
        try await withStore(testOptions()) { store, _ in
            for name in ["a", "b", "c", "d", "e"] {
                try await store.create(.k("/reg/pods/\(name)"), value: .k(name))
            }
            try await store.create(.k("/reg/podsx"), value: .k("outside the prefix"))
            try await store.create(.k("/reg/q"), value: .k("q"))
            let before = try await store.currentRevision()
            try await store.delete(.k("/reg/pods/c"))

            let all = try await store.list(.prefix("/reg/pods/"), withCount: true)
            #expect(all.kvs.map(\.valueString) == ["a", "b", "d", "e"])
            #expect(all.count == 4)
            #expect(!all.more)

            let page = try await store.list(.prefix("/reg/pods/"), limit: 2, withCount: true)
            #expect(page.kvs.map(\.valueString) == ["a", "b"])
            #expect(page.more)
            #expect(page.count == 4)

            // Continue after the last key, as a paging client does.
            let next = try await store.list(.between(page.kvs.last!.key + [0], KeyRange.prefixEnd(.k("/reg/pods/"))!), limit: 2)
            #expect(next.kvs.map(\.valueString) == ["d", "e"])

            let old = try await store.list(.prefix("/reg/pods/"), revision: before)
            #expect(old.kvs.map(\.valueString) == ["a", "b", "c", "d", "e"])

            #expect(try await store.count(.prefix("/reg/")).count == 6)
            #expect(try await store.count(.from(.k("/reg/pods/d"))).count == 4)
            #expect(try await store.list(.key("/reg/q")).kvs.map(\.valueString) == ["q"])
            #expect(try await store.list(.all).kvs.count == 6)
        }
    }

    @Test(arguments: [CommitMode.group(), CommitMode.serial])
    func concurrentCompareAndSwapIncrements(mode: CommitMode) async throws {
        try await withStore(testOptions(mode)) { store, _ in
            let key = [UInt8].k("/counter")
            try await store.create(key, value: .k("0"))
            let attemptsPerTask = 20
            // Each task reads, then tries to swap n -> n+1; it records the values it wrote.
            let written = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        var mine: [Int] = []
                        for _ in 0..<attemptsPerTask {
                            let current = try await store.get(key).kv!
                            let n = Int(current.valueString)!
                            do {
                                try await store.update(key, value: .k(String(n + 1)), expectedModRevision: current.modRevision)
                                mine.append(n + 1)
                            } catch KineError.conflict {
                                // Lost the race: someone else's increment landed first.
                            }
                        }
                        return mine
                    }
                }
                var all: [Int] = []
                for try await mine in group { all += mine }
                return all
            }
            let final = Int(try await store.get(key).kv!.valueString)!
            #expect(!written.isEmpty)
            #expect(final == written.count)
            // Every success is reflected exactly once: the values written are exactly 1...final.
            #expect(written.sorted() == Array(1...final))
        }
    }

    @Test func aFailedPreconditionFailsOnlyItsOwnWriteInABatch() async throws {
        try await withStore(testOptions(.group(maxBatch: 1024))) { (store: KineStore, _: TemporaryDirectory) async throws in
            // 64 distinct creates and 16 creates racing for one key, all at once.
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for i in 0..<64 {
                    group.addTask { (("d\(i)"), (try? await store.create(.k("/distinct/\(i)"), value: .k("v"))) != nil) }
                }
                for i in 0..<16 {
                    group.addTask { ("same\(i)", (try? await store.create(.k("/same"), value: .k("\(i)"))) != nil) }
                }
                var all: [(String, Bool)] = []
                for await r in group { all.append(r) }
                return all
            }
            #expect(results.filter { $0.0.hasPrefix("d") && $0.1 }.count == 64)
            #expect(results.filter { $0.0.hasPrefix("same") && $0.1 }.count == 1)
            #expect(try await store.count(.prefix("/distinct/")).count == 64)
            // Revisions are dense: 64 + 1 writes made 65 revisions after the new store's 1.
            #expect(try await store.currentRevision() == 66)
        }
    }

    @Test func dataSurvivesReopen() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var store = try await KineStore.open(directory: dir.path, options: testOptions())
        let kv = try await store.create(.k("/keep"), value: .k("me"))
        await store.close()
        store = try await KineStore.open(directory: dir.path, options: testOptions())
        #expect(try await store.get(.k("/keep")).kv == kv)
        #expect(try await store.currentRevision() == kv.modRevision)
        let next = try await store.create(.k("/next"), value: .k("x"))
        #expect(next.modRevision == kv.modRevision + 1)
        await store.close()
    }
}
