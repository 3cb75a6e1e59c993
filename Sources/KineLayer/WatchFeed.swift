import Logging
import Synchronization

/// The single, ordered path from committed changes to the ``WatchHub``.
///
/// Committers publish the changes they made; the feed delivers them in revision order with
/// no gap and no repeat (the hub skips what it has delivered already, so the committer's
/// direct delivery and the feed's task never repeat a change). If changes arrive with a gap
/// (another committer's, or another node's, changes came first), the missing revisions are
/// read from the log. ``poke()`` asks it to look for changes it was not told about (made
/// through another node); ``catchUp()`` does so and returns once they are delivered. What
/// is published is also announced to the other members through the ``PeerChangeSignal``.
final class WatchFeed: Sendable {
    private let hub: WatchHub
    private let reader: KineReader
    private let logger: Logger
    private let signal: (any PeerChangeSignal)?
    private let stream: AsyncStream<[Event]>
    private let input: AsyncStream<[Event]>.Continuation
    private let published = Mutex<Int64>(0)
    /// Whether a poke waits in the queue: further pokes join it rather than queue again.
    private let pokePending = Mutex(false)
    /// The newest revision another member said it committed.
    private let hinted = Mutex<Int64>(0)

    init(hub: WatchHub, reader: KineReader, signal: (any PeerChangeSignal)? = nil, logger: Logger) {
        self.hub = hub
        self.reader = reader
        self.signal = signal
        self.logger = logger
        (stream, input) = AsyncStream<[Event]>.makeStream()
    }

    /// Hands committed changes to the feed. Changes that directly follow the last delivered
    /// ones are delivered at once, on the caller's thread, as etcd notifies its watchers at
    /// the end of a write: no hand-over to the feed's task on the common path. Anything else
    /// (a gap, changes published out of order) queues for the feed's task, which reads
    /// what is missing from the log.
    func publish(_ events: [Event]) {
        guard let last = events.last?.revision else { return }
        published.withLock { $0 = max($0, last) }
        if !hub.deliver(events, onlyIfNext: true) { input.yield(events) }
        signal?.committed(events)
    }

    /// The newest revision published, which the hub may not have delivered yet: a watch
    /// "from now" starts after it, so it never sees a write that returned before it began.
    var publishedRevision: Int64 { published.withLock { $0 } }

    /// Asks the feed to read changes newer than the last delivered one from the log. Pokes
    /// made before the feed gets to a waiting one are merged with it.
    func poke() {
        let queued = pokePending.withLock { pending in
            defer { pending = true }
            return pending
        }
        if !queued { input.yield([]) }
    }

    /// Another member's changes, as it committed them: delivered at once if they follow the
    /// last delivered ones, else read (with whatever is missing) from the log.
    func received(_ events: [Event]) {
        guard let last = events.last?.revision else { return }
        if !hub.deliver(events, onlyIfNext: true) { hint(last) }
    }

    /// Another member committed up to `revision`: reads the changes up to it without first
    /// asking the database for its newest revision.
    func hint(_ revision: Int64) {
        guard revision > hub.revision else { return }
        hinted.withLock { $0 = max($0, revision) }
        poke()
    }

    /// Reads the changes committed up to now (by any member) that the hub has not delivered
    /// yet, and delivers them before returning.
    func catchUp() async throws {
        // Whatever another path delivers meanwhile is skipped by the hub.
        hub.deliver(try await changes(after: hub.revision, through: nil))
    }

    /// The logged changes after `delivered`, through `target` (or the newest revision).
    private func changes(after delivered: Int64, through target: Int64?) async throws -> [Event] {
        let current: Int64
        if let target { current = target } else { current = try await reader.currentRevision() }
        return current > delivered ? try await reader.window(after: delivered, through: current) : []
    }

    /// Stops the feed after what was published so far.
    func finish() {
        input.finish()
    }

    /// Delivers published changes until ``finish()`` is called or the task is cancelled.
    func run() async {
        for await batch in stream {
            do {
                try await deliver(batch)
            } catch {
                logger.error("watch feed could not read the log", metadata: ["error": "\(error)"])
            }
        }
    }

    private func deliver(_ batch: [Event]) async throws {
        let delivered = hub.revision
        var events = batch.filter { $0.revision > delivered }
        if batch.isEmpty {
            pokePending.withLock { $0 = false }
            let hint = hinted.withLock { $0 }
            events = try await changes(after: delivered, through: hint > delivered ? hint : nil)
        } else if let first = events.first, first.revision > delivered + 1 {
            events = try await reader.window(after: delivered, through: first.revision - 1) + events
        }
        hub.deliver(events)
    }
}
