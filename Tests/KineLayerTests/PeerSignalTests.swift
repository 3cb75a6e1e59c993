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
        private let hints: AsyncStream<Int64>
        private let input: AsyncStream<Int64>.Continuation
        let peer = Mutex<InProcessSignal?>(nil)
        let announced = Mutex<[Int64]>([])

        init() { (hints, input) = AsyncStream.makeStream() }

        func committed(revision: Int64) {
            announced.withLock { $0.append(revision) }
            peer.withLock { $0 }?.input.yield(revision)
        }

        func listen(_ heard: @escaping @Sendable (Int64) -> Void) async {
            for await revision in hints { heard(revision) }
        }

        func finish() { input.finish() }
    }

    /// Opens two stores on one SQLite file; the second polls only once an hour, so what it
    /// sees promptly of the first's writes came through `signal` or a catch-up.
    private func withPeers(signals: (InProcessSignal, InProcessSignal)?,
                           _ body: (KineStore, KineStore) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var configuration = SQLiteConfiguration(path: dir.path + "/kine.db")
        configuration.lockFile = false
        var first = testOptions(), second = testOptions()
        first.peerPollInterval = .seconds(3600)
        second.peerPollInterval = .seconds(3600)
        first.peerSignal = signals?.0
        second.peerSignal = signals?.1
        let a = try await KineStore(database: try SQLiteDatabase(configuration), options: first)
        let b = try await KineStore(database: try SQLiteDatabase(configuration), options: second)
        do {
            try await body(a, b)
        } catch {
            await a.close(); await b.close()
            throw error
        }
        await a.close(); await b.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func aPeersCommitReachesWatchesThroughTheSignal() async throws {
        let signals = (InProcessSignal(), InProcessSignal())
        signals.0.peer.withLock { $0 = signals.1 }
        signals.1.peer.withLock { $0 = signals.0 }
        defer { signals.0.finish(); signals.1.finish() }
        try await withPeers(signals: signals) { a, b in
            let watch = try await b.watch(.prefix("/hint/"))
            var revisions: [Int64] = []
            for i in 0..<5 { revisions.append(try await a.put(.k("/hint/\(i)"), value: .k("v")).kv.modRevision) }
            let events = try await collect(watch, timeout: .seconds(20)) { $0.count >= 5 }
            #expect(events.map(\.revision) == revisions)
            #expect(signals.0.announced.withLock { $0 }.last == revisions.last)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func catchingUpDeliversWhatAPeerCommitted() async throws {
        try await withPeers(signals: nil) { a, b in
            let watch = try await b.watch(.prefix("/catch/"))
            let revision = try await a.put(.k("/catch/x"), value: .k("v")).kv.modRevision
            #expect(b.watchRevision < revision)
            try await b.catchUpWatches()
            #expect(b.watchRevision == revision)
            let events = try await collect(watch, timeout: .seconds(20)) { !$0.isEmpty }
            #expect(events.map(\.revision) == [revision])
        }
    }
}
