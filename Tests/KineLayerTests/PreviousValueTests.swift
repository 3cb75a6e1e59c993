import TestSupport
import Testing
@testable import KineLayer

/// A change's previous key-value (an event's `prevKV`) is the key's previous row, read when
/// the event is, not a second copy of that row's value stored with the change.
@Suite(.timeLimit(.minutes(5))) struct PreviousValueTests {
    @Test func changesStoreNoCopyOfThePreviousValueAndEventsStillCarryIt() async throws {
        try await withStore(testOptions()) { store, _ in
            let lease = try await store.grantLease(ttl: 600)
            let v1 = try await store.create(.k("/p/a"), value: .k("v1"), lease: lease.id)
            try await store.put(.k("/p/a"), value: .k("v2"))
            try await store.put(.k("/p/a"), value: .k("v3"), lease: lease.id)
            try await store.delete(.k("/p/a"))
            try await store.create(.k("/p/b"), value: .k("x"))

            let copies = try await store.database.read { c in
                try await c.queryFirst("SELECT COUNT(*) FROM kine WHERE old_value IS NOT NULL")?.int(0) ?? -1
            }
            #expect(copies == 0, "no row stores the value it replaced")

            // Read back from the log (a watch starting in the past).
            let replay = try await store.watch(.prefix("/p/"), startRevision: v1.modRevision)
            let past = try await collect(replay) { $0.count >= 5 }
            #expect(past.map(\.kind) == [.put, .put, .put, .delete, .put])
            #expect(past.map { $0.prevKV?.valueString } == [nil, "v1", "v2", "v3", nil])
            #expect(past.map { $0.prevKV?.lease } == [nil, lease.id, 0, lease.id, nil], "the previous row's lease, not 0")
            #expect(past.map { $0.prevKV?.modRevision } == [nil, v1.modRevision, v1.modRevision + 1, v1.modRevision + 2, nil])
            #expect(past.map { $0.prevKV?.version } == [nil, 1, 2, 3, nil])

            // As they are committed (the live feed).
            let live = try await store.watch(.prefix("/p/b"))
            try await store.put(.k("/p/b"), value: .k("y"), lease: lease.id)
            try await store.delete(.k("/p/b"))
            let now = try await collect(live) { $0.count >= 2 }
            #expect(now.map { $0.prevKV?.valueString } == ["x", "y"])
            #expect(now.map { $0.prevKV?.lease } == [0, lease.id])
        }
    }

    /// A watch may start at the compact revision; the change there still has its previous
    /// key-value (the row it replaced outlives the compaction), and so do later ones.
    @Test func theChangeAtTheCompactRevisionKeepsItsPreviousValue() async throws {
        try await withStore(testOptions()) { store, _ in
            try await store.create(.k("/c"), value: .k("a"))
            let b = try await store.put(.k("/c"), value: .k("b")).kv
            try await store.put(.k("/c"), value: .k("c"))
            try await store.create(.k("/d"), value: .k("x"))
            try await store.put(.k("/d"), value: .k("y"))
            let target = try await store.delete(.k("/d")).revision
            #expect(try await store.compact(to: b.modRevision) == 0)
            #expect(try await store.compact(to: target) == 3, "a, b (replaced before the target) and x")

            let stream = try await store.watch(.prefix("/"), startRevision: target)
            let events = try await collect(stream) { !$0.isEmpty }
            #expect(events.map(\.kind) == [.delete])
            #expect(events.first?.prevKV?.valueString == "y")
            let c = try await store.get(.k("/c")).kv
            #expect(c?.valueString == "c")
        }
    }
}
