import Synchronization
import TestSupport
import Testing
@testable import KineLayer

/// Records what a watch hands to it, and refuses every message after its first `capacity`.
private final class RecordingSink: WatchSink {
    struct Record {
        var revisions: [Int64] = []
        var markers: [Int64] = []
        var ends: [String] = []
        var received = 0
    }

    let record = Mutex(Record())
    let capacity: Int

    init(capacity: Int = .max) {
        self.capacity = capacity
    }

    func receive(_ message: WatchMessage) -> Bool {
        record.withLock { r in
            r.received += 1
            guard r.received <= capacity else { return false }
            switch message {
            case .events(let events): r.revisions += events.map(\.revision)
            case .progress(let revision): r.markers.append(revision)
            }
            return true
        }
    }

    func finish(_ error: (any Error)?) {
        record.withLock { $0.ends.append(error.map { "\($0)" } ?? "normal") }
    }

    var snapshot: Record { record.withLock { $0 } }
}

/// Waits until `condition` holds, or fails after 30 s.
private func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<3000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}

@Suite(.timeLimit(.minutes(5))) struct WatchSinkTests {
    /// A sink watching from the past gets the history, then the changes made while the
    /// history was read and after: every revision once, in order.
    @Test func aSinkFromThePastGetsTheHistoryThenLiveChangesEachOnceInOrder() async throws {
        try await withStore(testOptions()) { store, _ in
            for i in 0..<300 { try await store.put(.k("/s/\(i % 17)"), value: .k("\(i)")) }
            let start = try await store.currentRevision() - 299
            let sink = RecordingSink()
            let writer = Task {
                for i in 0..<300 { try await store.put(.k("/s/\(i % 13)"), value: .k("live\(i)")) }
            }
            _ = try await store.watch(.prefix("/s/"), startRevision: start, sink: sink)
            try await writer.value
            let final = try await store.currentRevision()
            try await eventually { sink.snapshot.revisions.last == final }
            #expect(sink.snapshot.revisions == Array(start...final))
            #expect(sink.snapshot.ends.isEmpty)
        }
    }

    /// A sink that refuses a message ends its watch once, with the overflow error, and the
    /// store forgets it; other watches go on.
    @Test func aSinkThatRefusesEndsItsWatchOnceWithOverflow() async throws {
        try await withStore(testOptions()) { store, _ in
            let slow = RecordingSink(capacity: 3)
            let other = RecordingSink()
            _ = try await store.watch(.prefix("/o/"), sink: slow)
            _ = try await store.watch(.prefix("/o/"), sink: other)
            for i in 0..<10 { try await store.put(.k("/o/\(i)"), value: .k("x")) }
            let final = try await store.currentRevision()
            try await eventually { other.snapshot.revisions.last == final && !slow.snapshot.ends.isEmpty }
            #expect(slow.snapshot.ends == ["\(KineError.watcherOverflow)"])
            #expect(slow.snapshot.revisions.count == 3)
            #expect(other.snapshot.revisions.count == 10)
            #expect(store.watchCount == 1)
        }
    }

    /// Cancelling finishes a sink normally, once; a progress marker reaches a live sink
    /// after its changes; closing the store finishes the sinks still open.
    @Test func cancelProgressAndCloseReachTheSink() async throws {
        let cancelled = RecordingSink(), open = RecordingSink()
        try await withStore(testOptions()) { store, _ in
            let first = try await store.watch(.all, sink: cancelled)
            let second = try await store.watch(.all, sink: open)
            try await store.put(.k("/c/1"), value: .k("x"))
            let current = try await store.currentRevision()
            try await eventually { open.snapshot.revisions == [current] && cancelled.snapshot.revisions == [current] }
            store.cancelWatch(first)
            store.cancelWatch(first)
            #expect(cancelled.snapshot.ends == ["normal"])
            #expect(store.watchCount == 1)
            #expect(!store.requestProgress(first))
            try await store.put(.k("/c/2"), value: .k("y"))
            let now = try await store.currentRevision()
            try await eventually { store.watchRevision == now }
            #expect(store.requestProgress(second))
            #expect(open.snapshot.revisions == [current, now])
            #expect(open.snapshot.markers == [now])
        }
        #expect(open.snapshot.ends == ["normal"])
        #expect(cancelled.snapshot.ends == ["normal"])
        #expect(cancelled.snapshot.revisions.count == 1)
    }

    /// The committer delivers a batch that follows the last delivered revision at once; a
    /// batch after a gap is refused (the feed reads the gap from the log first), and a
    /// batch overlapping what was delivered is cut to what is new.
    @Test func theHubDeliversOnlyWhatFollowsAndSkipsWhatItHasDelivered() {
        func events(_ revisions: ClosedRange<Int64>) -> [Event] {
            revisions.map { Event(kind: .put, kv: KeyValue(key: .k("/h/\($0)"), value: [], createRevision: $0, modRevision: $0, version: 1, lease: 0), prevKV: nil) }
        }
        let hub = WatchHub(revision: 10)
        let sink = RecordingSink()
        _ = hub.register(.prefix("/h/"), startRevision: 0, sink: sink)
        #expect(hub.deliver(events(11...12), onlyIfNext: true))
        #expect(!hub.deliver(events(14...15), onlyIfNext: true))
        #expect(hub.revision == 12)
        // The feed's path: the gap read from the log plus the refused batch, overlapping
        // what was delivered.
        #expect(hub.deliver(events(12...15)))
        #expect(hub.deliver(events(11...15)))
        #expect(hub.deliver(events(15...16), onlyIfNext: true))
        #expect(sink.snapshot.revisions == Array(11...16))
        #expect(hub.revision == 16)
    }
}
