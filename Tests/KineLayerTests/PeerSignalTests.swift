import Foundation
import Storage
import Synchronization
import TestSupport
import Testing
@testable import KineLayer

/// Two stores sharing one database, as the members of a cluster share the replicated one:
/// how one store's watches learn of the other's commits.
struct PeerSignalTests {
    /// A ``PeerChangeSignal`` inside one process: what one store commits, its peer hears.
    final class InProcessSignal: PeerChangeSignal {
        private let hints: AsyncStream<PeerChange>
        private let input: AsyncStream<PeerChange>.Continuation
        /// Whether to pass the changes, or only their revision.
        let withChanges: Bool
        let peer = Mutex<InProcessSignal?>(nil)
        let announced = Mutex<[Int64]>([])

        init(withChanges: Bool) {
            self.withChanges = withChanges
            (hints, input) = AsyncStream.makeStream()
        }

        func committed(_ events: [Event]) {
            guard let last = events.last?.revision else { return }
            announced.withLock { $0.append(last) }
            peer.withLock { $0 }?.input.yield(withChanges ? .events(events) : .revision(last))
        }

        func listen(_ heard: @escaping @Sendable (PeerChange) -> Void) async {
            for await change in hints { heard(change) }
        }

        func finish() { input.finish() }
    }

    /// Opens two stores on one SQLite database (one `SQLiteDatabase`, as members share the
    /// replicated database); the second polls only once an hour, so what it sees promptly of
    /// the first's writes came through `signal` or a catch-up.
    private func withPeers(signals: (InProcessSignal, InProcessSignal)?,
                           _ body: (KineStore, KineStore) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try SQLiteDatabase(SQLiteConfiguration(path: dir.path + "/kine.db"))
        var first = testOptions(), second = testOptions()
        first.peerPollInterval = .seconds(3600)
        second.peerPollInterval = .seconds(3600)
        first.peerSignal = signals?.0
        second.peerSignal = signals?.1
        let a = try await KineStore(database: database, options: first)
        let b = try await KineStore(database: database, options: second)
        do {
            try await body(a, b)
        } catch {
            await b.close(); await a.close()
            throw error
        }
        await b.close(); await a.close()
    }

    @Test(.timeLimit(.minutes(5)), arguments: [true, false])
    func aPeersCommitReachesWatchesThroughTheSignal(withChanges: Bool) async throws {
        let signals = (InProcessSignal(withChanges: withChanges), InProcessSignal(withChanges: withChanges))
        signals.0.peer.withLock { $0 = signals.1 }
        signals.1.peer.withLock { $0 = signals.0 }
        defer { signals.0.finish(); signals.1.finish() }
        try await withPeers(signals: signals) { a, b in
            let watch = try await b.watch(.prefix("/hint/"))
            var revisions: [Int64] = []
            for i in 0..<5 { revisions.append(try await a.put(.k("/hint/\(i)"), value: .k("v")).kv.modRevision) }
            let events = try await collect(watch, timeout: .seconds(240)) { $0.count >= 5 }
            #expect(events.map(\.revision) == revisions)
            #expect(events.map(\.kv.key) == (0..<5).map { .k("/hint/\($0)") })
            #expect(signals.0.announced.withLock { $0 }.last == revisions.last)
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func catchingUpDeliversWhatAPeerCommitted() async throws {
        try await withPeers(signals: nil) { a, b in
            let watch = try await b.watch(.prefix("/catch/"))
            let revision = try await a.put(.k("/catch/x"), value: .k("v")).kv.modRevision
            #expect(b.watchRevision < revision)
            try await b.catchUpWatches()
            #expect(b.watchRevision == revision)
            let events = try await collect(watch, timeout: .seconds(240)) { !$0.isEmpty }
            #expect(events.map(\.revision) == [revision])
        }
    }
}

/// The form in which members hand each other their changes.
struct EventCodecTests {
    @Test func roundTripsAndRefusesMalformedBatches() {
        let put = Event(kind: .put, kv: KeyValue(key: .k("/a"), value: .k("v2"), createRevision: 3, modRevision: 7, version: 2, lease: 99),
                        prevKV: KeyValue(key: .k("/a"), value: .k("v1"), createRevision: 3, modRevision: 3, version: 1, lease: 0))
        let delete = Event(kind: .delete, kv: KeyValue(key: .k("/b"), value: [], createRevision: 0, modRevision: 7, version: 0, lease: 0), prevKV: nil)
        let big = Event(kind: .put, kv: KeyValue(key: .k("/c"), value: [UInt8](repeating: 0xab, count: 100_000), createRevision: 8,
                                                  modRevision: 8, version: 1, lease: -1), prevKV: nil)
        let batch = [put, delete, big]
        let bytes = EventCodec.encode(batch)
        #expect(EventCodec.decode(bytes) == batch)
        #expect(EventCodec.encodedSize(batch) == bytes.count)
        #expect(EventCodec.decode(EventCodec.encode([])) == [])
        // Every truncation, a trailing byte, a bad kind, a huge count, revisions out of order.
        #expect((0..<200).allSatisfy { EventCodec.decode(Array(bytes.prefix($0))) == nil })
        #expect(EventCodec.decode(bytes + [0]) == nil)
        var badKind = bytes
        badKind[4] = 2
        #expect(EventCodec.decode(badKind) == nil)
        #expect(EventCodec.decode([0xff, 0xff, 0xff, 0xff]) == nil)
        #expect(EventCodec.decode(EventCodec.encode([big, put])) == nil)
    }
}
