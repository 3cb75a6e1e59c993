import EtcdAPI
import Foundation
import GRPCCore
import KineLayer
import Synchronization

/// One Watch stream: creates and cancels watches as the client asks, forwards each watch's
/// changes, and answers progress requests.
///
/// Structure: one child task is the single writer (every response goes through one
/// bounded ``ResponseBuffer``, so a slow client slows its watches instead of growing a
/// buffer, and the writer takes whatever has queued at once); an inner discarding task group holds the progress-notify ticker and one child
/// task per watch, while the request loop creates and cancels watches. The stream ends when
/// the client cancels it or fails.
final class WatchSession: Sendable {
    /// Why a progress marker was asked for.
    private enum MarkerPurpose: Sendable { case requestProgress, periodic }

    private struct Watch {
        var kineID: Int
        var prevKV: Bool
        var noPut: Bool
        var noDelete: Bool
        var progressNotify: Bool
        /// Markers asked for and not yet seen, oldest first.
        var pendingMarkers: [MarkerPurpose] = []
    }

    private struct State {
        var watches: [Int64: Watch] = [:]
        var nextID: Int64 = 0
        /// The outstanding stream-wide progress request: watches still to report, and the
        /// lowest revision reported so far.
        var progressWaiting: Set<Int64>?
        var progressRevision = Int64.max
    }

    private let store: KineStore
    private let identity: EtcdIdentity
    private let state = Mutex(State())
    private let outgoing = ResponseBuffer<Etcdserverpb_WatchResponse>(capacity: 1024)
    /// Events per response at most, so that a huge batch never makes one huge message.
    private static let maxEventsPerResponse = 1000

    init(store: KineStore, identity: EtcdIdentity) {
        self.store = store
        self.identity = identity
    }

    func run(requests: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>, writer: RPCWriter<Etcdserverpb_WatchResponse>,
             progressNotifyInterval: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { outer in
            // The single writer: drains every response, in order, until the channel finishes.
            outer.addTask {
                while let responses = await self.outgoing.next() { try await writer.write(contentsOf: responses) }
            }
            do {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: progressNotifyInterval)
                            if !Task.isCancelled { self.requestPeriodicProgress() }
                        }
                    }
                    for try await request in requests {
                        switch request.requestUnion {
                        case .createRequest(let create):
                            if let forward = await self.create(create) { group.addTask { try await forward() } }
                        case .cancelRequest(let cancel):
                            await self.cancel(cancel.watchID)
                        case .progressRequest:
                            await self.requestProgress()
                        case nil:
                            break
                        }
                    }
                    // The client closed its side. As etcd does, the watches go on until the
                    // client cancels the call, which cancels this group.
                }
                endAllWatches()
            } catch {
                endAllWatches()
                outgoing.finish()
                outer.cancelAll()
                throw error
            }
            outgoing.finish()
            try await outer.waitForAll()
        }
    }

    private func endAllWatches() {
        for id in state.withLock({ Array($0.watches.values.map(\.kineID)) }) { store.cancelWatch(id) }
    }

    // MARK: Create and cancel

    /// Creates a watch and returns the work that forwards its changes, or `nil` if it could
    /// not be created (the client has been told why).
    private func create(_ c: Etcdserverpb_WatchCreateRequest) async -> (@Sendable () async throws -> Void)? {
        let id: Int64? = state.withLock { s in
            if c.watchID != 0 {
                return s.watches[c.watchID] == nil ? c.watchID : nil
            }
            while s.watches[s.nextID] != nil { s.nextID += 1 }
            defer { s.nextID += 1 }
            return s.nextID
        }
        guard let id else {
            await send(response(c.watchID) { $0.created = true; $0.canceled = true; $0.cancelReason = "etcdserver: duplicate watch ID provided on the WatchStream" })
            return nil
        }
        let range = KeyRange(key: c.key, rangeEnd: c.rangeEnd)
        let kineWatch: KineWatch
        do {
            kineWatch = try await store.watch(range, startRevision: c.startRevision)
        } catch KineError.compacted(let compactRevision, _) {
            await send(response(id) { $0.created = true })
            await send(response(id) {
                $0.canceled = true
                $0.compactRevision = compactRevision
                $0.cancelReason = EtcdError.compacted.message
            })
            return nil
        } catch {
            await send(response(id) { $0.created = true; $0.canceled = true; $0.cancelReason = EtcdError.from(error).message })
            return nil
        }
        let filters = Set(c.filters)
        state.withLock { s in
            s.watches[id] = Watch(kineID: kineWatch.id, prevKV: c.prevKv, noPut: filters.contains(.noput),
                                  noDelete: filters.contains(.nodelete), progressNotify: c.progressNotify)
        }
        await send(response(id) { $0.created = true })
        return { try await self.forward(id, kineWatch) }
    }

    private func cancel(_ id: Int64) async {
        guard let watch = state.withLock({ $0.watches[id] }) else { return }
        store.cancelWatch(watch.kineID)
        // The forwarding task sends the "canceled" response when the stream ends.
    }

    // MARK: Forwarding

    private func forward(_ id: Int64, _ watch: KineWatch) async throws {
        do {
            for try await message in watch.stream {
                switch message {
                case .events(let events): await send(events, for: id)
                case .progress(let revision): await markerArrived(id, revision)
                }
            }
            await closeWatch(id, reason: nil)
        } catch {
            await closeWatch(id, reason: EtcdError.from(error).message)
        }
    }

    private func send(_ events: [Event], for id: Int64) async {
        guard let w = state.withLock({ $0.watches[id] }) else { return }
        let kept = events.filter { ($0.kind == .put && !w.noPut) || ($0.kind == .delete && !w.noDelete) }
        guard let last = kept.last else { return }
        let header = identity.header(max(last.revision, store.watchRevision))
        for chunk in stride(from: 0, to: kept.count, by: Self.maxEventsPerResponse) {
            var r = Etcdserverpb_WatchResponse()
            r.watchID = id
            r.header = header
            r.events = kept[chunk..<min(chunk + Self.maxEventsPerResponse, kept.count)].map { Mvccpb_Event($0, prevKV: w.prevKV) }
            await send(r)
        }
    }

    private func closeWatch(_ id: Int64, reason: String?) async {
        let removed = state.withLock { s -> Watch? in
            let w = s.watches.removeValue(forKey: id)
            s.progressWaiting?.remove(id)
            return w
        }
        guard removed != nil else { return }
        await send(response(id) { $0.canceled = true; if let reason { $0.cancelReason = reason } })
        await finishProgressIfComplete()
    }

    // MARK: Progress

    /// RequestProgress: once every watch has passed a marker, one response with watch ID -1
    /// tells the revision up to which everything has been sent.
    private func requestProgress() async {
        let targets: [(Int64, Int)] = state.withLock { s in
            s.progressWaiting = Set(s.watches.keys)
            s.progressRevision = .max
            for id in s.watches.keys { s.watches[id]?.pendingMarkers.append(.requestProgress) }
            return s.watches.map { ($0.key, $0.value.kineID) }
        }
        for (id, kineID) in targets where !store.requestProgress(kineID) {
            await closeWatch(id, reason: nil)
        }
        await finishProgressIfComplete()
    }

    private func requestPeriodicProgress() {
        let targets: [Int] = state.withLock { s in
            var ids: [Int] = []
            for (id, w) in s.watches where w.progressNotify {
                s.watches[id]?.pendingMarkers.append(.periodic)
                ids.append(w.kineID)
            }
            return ids
        }
        for kineID in targets { store.requestProgress(kineID) }
    }

    private func markerArrived(_ id: Int64, _ revision: Int64) async {
        let purpose: MarkerPurpose? = state.withLock { s in
            guard var w = s.watches[id], !w.pendingMarkers.isEmpty else { return nil }
            let p = w.pendingMarkers.removeFirst()
            s.watches[id] = w
            if p == .requestProgress, s.progressWaiting?.remove(id) != nil {
                s.progressRevision = min(s.progressRevision, revision)
            }
            return p
        }
        switch purpose {
        case .periodic?:
            var r = response(id)
            r.header = identity.header(revision)
            await send(r)
        case .requestProgress?:
            await finishProgressIfComplete()
        case nil:
            break
        }
    }

    /// Sends the stream-wide progress response once no watch is left to report. With no
    /// watch at all, everything delivered so far is the progress.
    private func finishProgressIfComplete() async {
        let revision: Int64? = state.withLock { s in
            guard let waiting = s.progressWaiting, waiting.isEmpty else { return nil }
            s.progressWaiting = nil
            return s.progressRevision
        }
        guard let revision else { return }
        await sendProgress(revision == .max ? store.watchRevision : revision)
    }

    private func sendProgress(_ revision: Int64) async {
        var r = response(-1)
        r.header = identity.header(revision)
        await send(r)
    }

    // MARK: Responses

    private func response(_ id: Int64, _ configure: (inout Etcdserverpb_WatchResponse) -> Void = { _ in }) -> Etcdserverpb_WatchResponse {
        var r = Etcdserverpb_WatchResponse()
        r.watchID = id
        r.header = identity.header(store.watchRevision)
        configure(&r)
        return r
    }

    private func send(_ response: Etcdserverpb_WatchResponse) async {
        await outgoing.send(response)
    }
}
