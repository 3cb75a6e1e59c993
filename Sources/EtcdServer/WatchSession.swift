import EtcdAPI
import GRPCCore
import KineLayer
import Synchronization

/// One Watch stream: creates and cancels watches as the client asks, turns each watch's
/// changes into responses, and answers progress requests.
///
/// Structure: the store hands every watch's messages to the session synchronously (a
/// ``WatchSink`` per watch), and the session turns them into encoded responses under its
/// lock, in order, and queues them on the stream's ``StreamOutput``, whose event loop
/// writes whatever has queued with one flush. No task runs per watch or per stream, so a
/// change seen by many watches of one stream costs one hand-over to the event loop, and is
/// encoded once (``WatchResponseEncoder``). A slow client leaves bytes waiting: past
/// the output's limit the request loop waits, and a watch whose changes find more than
/// ``maxBacklogBytes`` waiting falls behind, as etcd's slow watchers do: its registration in
/// the store is dropped, and once the client has read what waits it is registered again
/// from the first change it missed (the store reads those from the log). It is never
/// cancelled for being slow, unless the changes it missed have been compacted meanwhile.
/// A discarding task group holds the progress-notify ticker and the task that resumes
/// lagging watches while the request loop creates and cancels watches. The stream ends
/// when the client cancels it or fails.
final class WatchSession: Sendable {
    /// Why a progress marker was asked for.
    private enum MarkerPurpose: Sendable { case requestProgress, periodic }

    /// What reached a watch before its "created" response was queued.
    private enum Early: Sendable {
        case message(WatchMessage)
        case ended(reason: String?)
    }

    private struct Watch {
        /// The store's ID; `nil` while the store is registering it, or while lagging.
        var kineID: Int?
        var range: KeyRange
        /// Counts the watch's registrations in the store: messages from an older one (a
        /// registration dropped when the watch fell behind) are ignored.
        var generation = 0
        /// While the client is too far behind: the revision to register again from.
        var resumeFrom: Int64?
        var prevKV: Bool
        var noPut: Bool
        var noDelete: Bool
        var progressNotify: Bool
        /// Markers asked for and not yet seen, oldest first.
        var pendingMarkers: [MarkerPurpose] = []
        /// Held until the "created" response is queued; `nil` after that.
        var early: [Early]? = []
    }

    private struct State {
        var watches: [Int64: Watch] = [:]
        var nextID: Int64 = 0
        /// The outstanding stream-wide progress request: watches still to report, and the
        /// lowest revision reported so far.
        var progressWaiting: Set<Int64>?
        var progressRevision = Int64.max
        /// Shares the encoding of a batch between the watches that see all of it.
        var encoder = WatchResponseEncoder()
    }

    /// Hands one watch's messages to its session.
    private struct Sink: WatchSink {
        let session: WatchSession
        let id: Int64
        let generation: Int
        func receive(_ message: WatchMessage) -> Bool { session.receive(message, for: id, generation: generation) }
        func finish(_ error: (any Error)?) {
            session.ended(id, generation: generation, reason: error.map { EtcdError.from($0).message })
        }
    }

    private let store: KineStore
    private let identity: EtcdIdentity
    private let output: StreamOutput
    private let state = Mutex(State())
    /// Signals that a watch fell behind; the resuming task waits for the client to read.
    private let lagged: AsyncStream<Void>
    private let lagSignal: AsyncStream<Void>.Continuation
    /// Bytes waiting for a slow client past which a watch's changes are not sent (the watch
    /// falls behind) and periodic progress is left out. The request loop already waits at
    /// the output's own, lower limit.
    static let maxBacklogBytes = 32 << 20

    init(store: KineStore, identity: EtcdIdentity, output: StreamOutput) {
        self.store = store
        self.identity = identity
        self.output = output
        (lagged, lagSignal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// How long a member may go without reaching the leader before a stream that requires
    /// one ends; the check runs every ``leaderCheckInterval``.
    static let leaderlessLimit: Duration = .seconds(3)
    static let leaderCheckInterval: Duration = .milliseconds(500)

    /// Serves the stream's requests until the call is cancelled; every watch then ends. With
    /// `requireLeader`, the stream ends with `Unavailable` ("etcdserver: no leader") once the
    /// store has not reached its leader for ``leaderlessLimit``, as etcd ends such streams.
    func run(requests: some AsyncSequence<Etcdserverpb_WatchRequest, any Error> & Sendable,
             progressNotifyInterval: Duration, requireLeader: Bool = false) async throws {
        defer { endAllWatches() }
        try await withThrowingDiscardingTaskGroup { group in
            if requireLeader {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.leaderCheckInterval)
                        if !Task.isCancelled && !self.store.reachedDatabase(within: Self.leaderlessLimit) {
                            throw RPCError(code: .unavailable, message: "etcdserver: no leader")
                        }
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: progressNotifyInterval)
                    if !Task.isCancelled { self.requestPeriodicProgress() }
                }
            }
            group.addTask {
                // Once the client has read what waited, lagging watches start again.
                for await _ in self.lagged {
                    try await self.output.waitForRoom()
                    await self.resumeLaggingWatches()
                }
            }
            // A child task too, so that a child's failure (no leader) cancels it.
            group.addTask {
                for try await request in requests {
                    try await self.output.waitForRoom()
                    switch request.requestUnion {
                    case .createRequest(let create): await self.create(create)
                    case .cancelRequest(let cancel): self.cancel(cancel.watchID)
                    case .progressRequest: await self.requestProgress()
                    case nil: break
                    }
                }
                // The client closed its side. As etcd does, the watches go on until the
                // client cancels the call, which cancels this group.
            }
        }
    }

    private func endAllWatches() {
        for id in state.withLock({ $0.watches.values.compactMap(\.kineID) }) { store.cancelWatch(id) }
    }

    // MARK: Create and cancel

    /// Creates a watch; the client is told it was created, or why it could not be.
    private func create(_ c: Etcdserverpb_WatchCreateRequest) async {
        let filters = Set(c.filters)
        let range = KeyRange(key: c.key, rangeEnd: c.rangeEnd)
        let id: Int64? = state.withLock { s in
            let id: Int64
            if c.watchID != 0 {
                guard s.watches[c.watchID] == nil else { return nil }
                id = c.watchID
            } else {
                while s.watches[s.nextID] != nil { s.nextID += 1 }
                id = s.nextID
                s.nextID += 1
            }
            s.watches[id] = Watch(range: range, prevKV: c.prevKv, noPut: filters.contains(.noput),
                                  noDelete: filters.contains(.nodelete), progressNotify: c.progressNotify)
            return id
        }
        guard let id else {
            offer(response(c.watchID) { $0.created = true; $0.canceled = true; $0.cancelReason = "etcdserver: duplicate watch ID provided on the WatchStream" })
            return
        }
        do {
            // On a cluster member, the changes another member committed may not have reached
            // this one's watches yet: the "created" header, and a watch from now or from a
            // revision the client got elsewhere, must not be behind them.
            if c.startRevision == 0 || c.startRevision > store.watchRevision { try await store.catchUpWatches() }
            let kineID = try await store.watch(range, startRevision: c.startRevision, sink: Sink(session: self, id: id, generation: 0))
            let overflowed: Bool = state.withLock { s in
                s.watches[id]?.kineID = kineID
                offer(response(id) { $0.created = true })
                let early = s.watches[id]?.early ?? []
                s.watches[id]?.early = nil
                for item in early {
                    switch item {
                    case .message(let message):
                        // Fell behind: the rest is read again from the log when it resumes.
                        if !handle(message, for: id, in: &s) { return true }
                    case .ended(let reason):
                        close(id, reason: reason, in: &s)
                    }
                }
                return false
            }
            // Fell behind already: this registration goes (its sink belongs to an older
            // generation now, so its end closes nothing).
            if overflowed { store.cancelWatch(kineID) }
        } catch {
            _ = state.withLock { $0.watches.removeValue(forKey: id) }
            offer(response(id) { $0.created = true })
            offer(cancelled(id, by: error))
        }
    }

    private func cancel(_ id: Int64) {
        let kineID: Int? = state.withLock { s in
            guard let w = s.watches[id] else { return nil }
            if w.resumeFrom != nil {
                // Lagging: no registration to end (one being made is dropped on return).
                close(id, reason: nil, in: &s)
                return nil
            }
            return w.kineID
        }
        // The store finishes the watch's sink, which queues the "canceled" response.
        if let kineID { store.cancelWatch(kineID) }
    }

    // MARK: Falling behind

    /// Drops a watch's registration because its client has too much waiting, to register
    /// it again from `revision` later. A requested progress counts it as having sent
    /// everything before `revision`.
    private func startLagging(_ id: Int64, from revision: Int64, in s: inout State) {
        guard s.watches[id] != nil else { return }
        s.watches[id]?.generation += 1
        s.watches[id]?.kineID = nil
        s.watches[id]?.resumeFrom = revision
        s.watches[id]?.pendingMarkers = []
        if s.progressWaiting?.remove(id) != nil { s.progressRevision = min(s.progressRevision, revision - 1) }
        finishProgressIfComplete(in: &s)
        lagSignal.yield()
    }

    /// Registers every lagging watch again from the first change it missed. A watch whose
    /// missed changes were compacted meanwhile is cancelled, as a watch created that far
    /// back would be.
    private func resumeLaggingWatches() async {
        let lagging: [(Int64, KeyRange, Int64, Int)] = state.withLock { s in
            s.watches.compactMap { id, w in w.resumeFrom.map { (id, w.range, $0, w.generation) } }
        }
        for (id, range, from, generation) in lagging {
            do {
                let kineID = try await store.watch(range, startRevision: from, sink: Sink(session: self, id: id, generation: generation))
                let current: Bool = state.withLock { s in
                    guard s.watches[id]?.generation == generation else { return false }
                    s.watches[id]?.kineID = kineID
                    s.watches[id]?.resumeFrom = nil
                    return true
                }
                // Cancelled, or behind again, while it registered.
                if !current { store.cancelWatch(kineID) }
            } catch {
                state.withLock { s in
                    guard s.watches[id]?.generation == generation else { return }
                    s.watches.removeValue(forKey: id)
                    s.progressWaiting?.remove(id)
                    offer(cancelled(id, by: error))
                    finishProgressIfComplete(in: &s)
                }
            }
        }
    }

    // MARK: Delivery (called by the store)

    /// A message for watch `id`; `false` when the watch fell behind (the store then drops
    /// this registration).
    private func receive(_ message: WatchMessage, for id: Int64, generation: Int) -> Bool {
        state.withLock { s in
            guard s.watches[id]?.generation == generation else { return true }
            if s.watches[id]?.early != nil {
                s.watches[id]?.early?.append(.message(message))
                return true
            }
            return handle(message, for: id, in: &s)
        }
    }

    /// Watch `id` ended in the store.
    private func ended(_ id: Int64, generation: Int, reason: String?) {
        state.withLock { s in
            guard s.watches[id]?.generation == generation else { return }
            if s.watches[id]?.early != nil {
                s.watches[id]?.early?.append(.ended(reason: reason))
                return
            }
            close(id, reason: reason, in: &s)
        }
    }

    private func handle(_ message: WatchMessage, for id: Int64, in s: inout State) -> Bool {
        switch message {
        case .events(let events):
            guard let first = events.first, !send(events, for: id, in: &s) else { return true }
            startLagging(id, from: first.revision, in: &s)
            return false
        case .progress(let revision): return markerArrived(id, revision, in: &s)
        }
    }

    /// Queues a watch's responses for `events`; `false`, queuing nothing, when the client
    /// has ``maxBacklogBytes`` waiting.
    private func send(_ events: [Event], for id: Int64, in s: inout State) -> Bool {
        guard let w = s.watches[id] else { return true }
        if output.backlog > Self.maxBacklogBytes { return false }
        let kept = w.noPut || w.noDelete
            ? events.filter { ($0.kind == .put && !w.noPut) || ($0.kind == .delete && !w.noDelete) } : events
        guard let last = kept.last else { return true }
        let header = identity.header(max(last.revision, store.watchRevision))
        for response in s.encoder.responses(watchID: id, header: header, events: kept, prevKV: w.prevKV) { offer(response) }
        return true
    }

    /// Removes a watch and tells the client it was cancelled.
    private func close(_ id: Int64, reason: String?, in s: inout State) {
        guard s.watches.removeValue(forKey: id) != nil else { return }
        s.progressWaiting?.remove(id)
        offer(response(id) { $0.canceled = true; if let reason { $0.cancelReason = reason } })
        finishProgressIfComplete(in: &s)
    }

    // MARK: Progress

    /// RequestProgress: once every watch has passed a marker, one response with watch ID -1
    /// tells the revision up to which everything has been sent. As etcd's, that is the
    /// store's revision when the request came: changes committed through other members are
    /// delivered first (a client waits for it to pass a revision it read elsewhere). If they
    /// cannot be read, the progress is what was delivered.
    private func requestProgress() async {
        try? await store.catchUpWatches()
        let targets: [Int] = state.withLock { s in
            s.progressWaiting = []
            s.progressRevision = .max
            for (id, w) in s.watches {
                // A lagging watch has sent everything before the change it resumes from.
                if let resumeFrom = w.resumeFrom {
                    s.progressRevision = min(s.progressRevision, resumeFrom - 1)
                    continue
                }
                s.progressWaiting?.insert(id)
                s.watches[id]?.pendingMarkers.append(.requestProgress)
            }
            return s.watches.values.compactMap(\.kineID)
        }
        // A watch the store no longer has has ended: its sink was finished, which closed it.
        for kineID in targets { store.requestProgress(kineID) }
        state.withLock { finishProgressIfComplete(in: &$0) }
    }

    private func requestPeriodicProgress() {
        let targets: [Int] = state.withLock { s in
            var ids: [Int] = []
            for (id, w) in s.watches where w.progressNotify {
                guard let kineID = w.kineID else { continue }
                s.watches[id]?.pendingMarkers.append(.periodic)
                ids.append(kineID)
            }
            return ids
        }
        for kineID in targets { store.requestProgress(kineID) }
    }

    private func markerArrived(_ id: Int64, _ revision: Int64, in s: inout State) -> Bool {
        guard var w = s.watches[id], !w.pendingMarkers.isEmpty else { return true }
        let purpose = w.pendingMarkers.removeFirst()
        s.watches[id] = w
        switch purpose {
        case .periodic:
            // Left out when the client is far behind: the next one will do.
            if output.backlog <= Self.maxBacklogBytes {
                var r = response(id)
                r.header = identity.header(revision)
                offer(r)
            }
            return true
        case .requestProgress:
            if s.progressWaiting?.remove(id) != nil { s.progressRevision = min(s.progressRevision, revision) }
            finishProgressIfComplete(in: &s)
            return true
        }
    }

    /// Queues the stream-wide progress response once no watch is left to report. With no
    /// watch at all, everything delivered so far is the progress.
    private func finishProgressIfComplete(in s: inout State) {
        guard let waiting = s.progressWaiting, waiting.isEmpty else { return }
        s.progressWaiting = nil
        let revision = s.progressRevision == .max ? store.watchRevision : s.progressRevision
        var r = response(-1)
        r.header = identity.header(revision)
        offer(r)
    }

    // MARK: Responses

    /// The response cancelling watch `id` because the store could not (re)start it; for
    /// changes already compacted, with the compact revision, as etcd answers.
    private func cancelled(_ id: Int64, by error: any Error) -> Etcdserverpb_WatchResponse {
        response(id) {
            $0.canceled = true
            $0.cancelReason = EtcdError.from(error).message
            if case KineError.compacted(let compactRevision, _) = error { $0.compactRevision = compactRevision }
        }
    }

    private func response(_ id: Int64, _ configure: (inout Etcdserverpb_WatchResponse) -> Void = { _ in }) -> Etcdserverpb_WatchResponse {
        var r = Etcdserverpb_WatchResponse()
        r.watchID = id
        r.header = identity.header(store.watchRevision)
        configure(&r)
        return r
    }

    private func offer(_ response: Etcdserverpb_WatchResponse) {
        offer(WatchResponseEncoder.encode(response))
    }

    /// Queues an encoded response. A stream that has closed takes nothing, and that is not
    /// the watch's fault: the call is ending and ends every watch.
    private func offer(_ bytes: [UInt8]) {
        try? output.send(bytes)
    }
}
