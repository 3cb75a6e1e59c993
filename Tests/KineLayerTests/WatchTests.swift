import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct WatchTests {
    /// A watch opened after revision R, while 8 tasks write 10,000 changes, sees exactly the
    /// changes after R, in order, with previous values that match the history.
    @Test func watchSeesEveryChangeAfterItsStartInOrderWithPreviousValues() async throws {
        try await withStore(testOptions()) { store, _ in
            // Some history before R, so the watch must also tell old keys' previous values.
            for i in 0..<20 { try await store.create(.k("/w/key\(i)"), value: .k("init-\(i)")) }
            let r = try await store.currentRevision()
            let initial = try await store.list(.prefix("/w/"))
            let stream = try await store.watch(.prefix("/w/"), startRevision: r + 1)

            let tasks = 8, perTask = 1250
            try await withThrowingDiscardingTaskGroup { group in
                for t in 0..<tasks {
                    group.addTask {
                        for i in 0..<perTask {
                            let key = [UInt8].k("/w/key\((t * 7 + i) % 40)")
                            // A mix of creates, updates and deletes on 40 shared keys.
                            if i % 5 == 4 {
                                _ = try? await store.delete(key)
                            } else {
                                try await store.put(key, value: .k("t\(t)-i\(i)"))
                            }
                        }
                    }
                }
            }
            let final = try await store.currentRevision()
            #expect(final - r >= 8_000)
            let events = try await collect(stream) { $0.last?.revision == final }

            // Exactly the revisions (r, final], each once, in order.
            #expect(events.map(\.revision) == Array((r + 1)...final))

            // Replaying the events over the state at R reproduces every previous value.
            var state: [[UInt8]: KeyValue] = [:]
            for kv in initial.kvs { state[kv.key] = kv }
            var mismatches = 0
            for e in events {
                let before = state[e.kv.key]
                if e.prevKV?.value != before?.value || e.prevKV?.modRevision != before?.modRevision { mismatches += 1 }
                switch e.kind {
                case .put:
                    #expect(e.kv.version == (before?.version ?? 0) + 1)
                    state[e.kv.key] = e.kv
                case .delete:
                    state[e.kv.key] = nil
                }
            }
            #expect(mismatches == 0)
            // And the replayed state is the store's state.
            let now = try await store.list(.prefix("/w/"))
            #expect(now.kvs == state.values.sorted { $0.key.lexicographicallyPrecedes($1.key) })
        }
    }

    @Test func watchFromNowSeesOnlyLaterChangesOfItsRange() async throws {
        try await withStore(testOptions()) { store, _ in
            try await store.create(.k("/a/old"), value: .k("x"))
            let stream = try await store.watch(.prefix("/a/"))
            try await store.create(.k("/b/other"), value: .k("not mine"))
            let mine = try await store.create(.k("/a/new"), value: .k("y"))
            let events = try await collect(stream) { !$0.isEmpty }
            #expect(events.count == 1)
            #expect(events.first?.kv == mine)
            #expect(events.first?.isCreate == true)
        }
    }

    @Test func watchStartingInThePastReplaysHistoryThenGoesLive() async throws {
        try await withStore(testOptions()) { store, _ in
            let first = try await store.create(.k("/h/1"), value: .k("a"))
            try await store.put(.k("/h/1"), value: .k("b"))
            try await store.delete(.k("/h/1"))
            let stream = try await store.watch(.key("/h/1"), startRevision: first.modRevision)
            let live = try await store.create(.k("/h/1"), value: .k("c"))
            let events = try await collect(stream) { $0.count >= 4 }
            #expect(events.map(\.kind) == [.put, .put, .delete, .put])
            #expect(events.map(\.revision) == [first.modRevision, first.modRevision + 1, first.modRevision + 2, live.modRevision])
            #expect(events[2].prevKV?.valueString == "b")
            #expect(events[3].prevKV == nil)
        }
    }

    @Test func manyWatchersEachGetTheirOwnRange() async throws {
        try await withStore(testOptions()) { store, _ in
            var streams: [KineWatch] = []
            for i in 0..<50 { streams.append(try await store.watch(.prefix("/m/\(i)/"))) }
            #expect(store.watchCount == 50)
            for i in 0..<50 { try await store.create(.k("/m/\(i)/x"), value: .k("\(i)")) }
            for (i, stream) in streams.enumerated() {
                let events = try await collect(stream) { !$0.isEmpty }
                #expect(events.map(\.kv.valueString) == ["\(i)"])
            }
        }
    }

    @Test func progressMarkersComeAfterEveryEarlierChange() async throws {
        try await withStore(testOptions()) { store, _ in
            let watch = try await store.watch(.prefix("/p/"))
            for i in 0..<20 { try await store.put(.k("/p/\(i % 3)"), value: .k("\(i)")) }
            try await store.put(.k("/other"), value: .k("x"))
            // Let the feed deliver the last write, then ask.
            let current = try await store.currentRevision()
            for _ in 0..<2000 where store.watchRevision < current { try await Task.sleep(for: .milliseconds(5)) }
            #expect(store.requestProgress(watch.id))
            var events = 0
            for try await message in watch.stream {
                switch message {
                case .events(let batch): events += batch.count
                case .progress(let revision):
                    #expect(revision == current)
                    #expect(events == 20)
                    return
                }
            }
            Issue.record("stream ended without a progress marker")
        }
    }

    @Test func droppingTheStreamStopsTheWatch() async throws {
        try await withStore(testOptions()) { store, _ in
            do {
                let stream = try await store.watch(.all)
                _ = stream
            }
            // The termination handler runs when the stream is released.
            for _ in 0..<1000 where store.watchCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(store.watchCount == 0)
        }
    }

    @Test func aWatcherThatFallsBehindIsDroppedWithAClearError() async throws {
        var options = testOptions()
        options.watchBufferLimit = 10
        try await withStore(options) { store, _ in
            let stream = try await store.watch(.all)
            for i in 0..<50 { try await store.create(.k("/slow/\(i)"), value: .k("x")) }
            await #expect(throws: KineError.watcherOverflow) {
                for try await _ in stream.stream {}
            }
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct WatchCancellationTests {
    /// Consumers cancelled while changes are being delivered to them must not deadlock the
    /// hub (a stream's termination handler runs while the runtime holds the task's lock).
    @Test func cancellingConsumersDuringDeliveryDoesNotDeadlock() async throws {
        try await withStore(testOptions()) { store, _ in
            let writer = Task {
                var i = 0
                while !Task.isCancelled {
                    try await store.put(.k("/cancel/\(i % 10)"), value: .k("\(i)"))
                    i += 1
                }
            }
            for _ in 0..<60 {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            guard let watch = try? await store.watch(.prefix("/cancel/")) else { return }
                            do {
                                for try await _ in watch.stream {}
                            } catch {}
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                    group.cancelAll()
                }
            }
            writer.cancel()
            // Still serving: a write and a read answer.
            let kv = try await store.put(.k("/cancel/after"), value: .k("ok")).kv
            #expect(try await store.get(.k("/cancel/after")).kv == kv)
            #expect(store.watchCount == 0)
        }
    }
}
