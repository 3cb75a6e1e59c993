import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct CompactionTests {
    @Test func compactionRemovesHistoryButKeepsStateFromTheTargetOn() async throws {
        try await withStore(testOptions()) { store, _ in
            let a1 = try await store.create(.k("/c/a"), value: .k("a1"))
            try await store.put(.k("/c/a"), value: .k("a2"))
            try await store.create(.k("/c/gone"), value: .k("g"))
            try await store.delete(.k("/c/gone"))
            try await store.create(.k("/c/b"), value: .k("b1"))
            let target = try await store.currentRevision()
            let a3 = try await store.put(.k("/c/a"), value: .k("a3")).kv

            let removed = try await store.compact(to: target)
            #expect(removed == 3) // a1, the deleted key's value, its tombstone
            #expect(try await store.compactRevision() == target)

            // Below the target: compacted. At and above: intact.
            await #expect(throws: KineError.compacted(compactRevision: target, requested: a1.modRevision)) {
                try await store.get(.k("/c/a"), revision: a1.modRevision)
            }
            await #expect(throws: KineError.compacted(compactRevision: target, requested: target - 1)) {
                try await store.list(.prefix("/c/"), revision: target - 1)
            }
            #expect(try await store.list(.prefix("/c/"), revision: target).kvs.map(\.valueString) == ["a2", "b1"])
            #expect(try await store.list(.prefix("/c/")).kvs.map(\.valueString) == ["a3", "b1"])
            #expect(try await store.get(.k("/c/a")).kv == a3)

            // Refused: already compacted, and the future.
            await #expect(throws: KineError.compacted(compactRevision: target, requested: target)) {
                try await store.compact(to: target)
            }
            let current = try await store.currentRevision()
            await #expect(throws: KineError.futureRevision(requested: current + 1, current: current)) {
                try await store.compact(to: current + 1)
            }
        }
    }

    @Test func watchFromACompactedRevisionFailsWithTheCompactRevision() async throws {
        try await withStore(testOptions()) { store, _ in
            for i in 0..<10 { try await store.put(.k("/cw"), value: .k("\(i)")) }
            try await store.compact(to: 8)
            await #expect(throws: KineError.compacted(compactRevision: 8, requested: 3)) {
                _ = try await store.watch(.key("/cw"), startRevision: 3)
            }
            // From the compact revision itself every change is still there.
            let stream = try await store.watch(.key("/cw"), startRevision: 8)
            // (A new store is at revision 1: the puts made revisions 2 to 11.)
            let events = try await collect(stream) { $0.count >= 4 }
            #expect(events.map(\.revision) == [8, 9, 10, 11])
            #expect(events.map(\.kv.valueString) == ["6", "7", "8", "9"])
        }
    }

    @Test func automaticCompactionKeepsTheRetainedRevisions() async throws {
        var options = testOptions()
        options.compactionInterval = .milliseconds(200)
        options.compactionPolicy = RetainRevisions(10)
        try await withStore(options) { store, _ in
            for i in 0..<100 { try await store.put(.k("/auto"), value: .k("\(i)")) }
            var compact: Int64 = 0
            // The puts made revisions 2 to 101: the newest 10 are kept.
            for _ in 0..<600 where compact != 91 {
                try await Task.sleep(for: .milliseconds(50))
                compact = try await store.compactRevision()
            }
            #expect(compact == 91)
            #expect(try await store.get(.k("/auto"), revision: 95).kv?.valueString == "93")
        }
    }

    /// With a revision budget, a round runs as soon as the history passes it, long before the
    /// interval, and still keeps the retained revisions; below the budget none runs.
    @Test func aRevisionBudgetCompactsBeforeTheInterval() async throws {
        var options = testOptions()
        options.compactionInterval = .seconds(3_600)
        options.compactionPolicy = RetainRevisions(10)
        options.compactionRevisionBudget = 50
        options.compactionCheckInterval = .milliseconds(20)
        try await withStore(options) { store, _ in
            // Revisions 2 to 41: within the budget.
            for i in 0..<40 { try await store.put(.k("/budget"), value: .k("\(i)")) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await store.compactRevision() == 0)
            // Revisions 42 to 81: past it, so a round compacts to the newest minus 10 (once
            // the newest is past 50, perhaps while the puts go on).
            for i in 40..<80 { try await store.put(.k("/budget"), value: .k("\(i)")) }
            var compact: Int64 = 0
            for _ in 0..<600 where compact == 0 {
                try await Task.sleep(for: .milliseconds(20))
                compact = try await store.compactRevision()
            }
            #expect((41...71).contains(compact))
            #expect(try await store.get(.k("/budget"), revision: 75).kv?.valueString == "73")
        }
    }

    /// A key rewritten many times does not leave a file that keeps growing: after the first
    /// round, four times as many further rewrites leave the file about the same size.
    @Test func fileSizeStaysBoundedUnderRewritesWithCompaction() async throws {
        var options = testOptions()
        options.compactionPolicy = RetainRevisions(100)
        try await withStore(options) { store, _ in
            let value = [UInt8](repeating: 0x5A, count: 1024)
            func rewrite(_ n: Int) async throws {
                try await withThrowingDiscardingTaskGroup { group in
                    for _ in 0..<8 {
                        group.addTask { for _ in 0..<(n / 8) { try await store.put(.k("/big"), value: value) } }
                    }
                }
                try await store.compactNow()
            }
            try await rewrite(4_000)
            let afterFirst = try await store.database.sizeInBytes()
            try await rewrite(16_000)
            let afterMore = try await store.database.sizeInBytes()
            // Without compaction the second round alone would add about 16 MB.
            #expect(afterMore < afterFirst + 1_000_000, "file grew from \(afterFirst) to \(afterMore) bytes")
            #expect(afterMore < 2_000_000)
            #expect(try await store.get(.k("/big")).kv?.version == 20_000)
        }
    }

    @Test(.timeLimit(.minutes(1))) func kubeAPIServersPolicyCompactsToTheRevisionOfTheRoundBefore() {
        let policy = RetainOneInterval()
        // The first round has nothing older than itself to drop; each later one drops what
        // the round before saw, however few revisions came between.
        #expect(policy.target(current: 40) == 0)
        #expect(policy.target(current: 45) == 40)
        #expect(policy.target(current: 45) == 45)
        #expect(policy.target(current: 1_000) == 45)
        #expect(RetainRevisions(100).target(current: 1_000) == 900)
    }
}
