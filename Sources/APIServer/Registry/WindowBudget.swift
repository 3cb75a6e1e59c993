import Synchronization

/// The bytes every resource's window of recent changes holds together, against one limit
/// (``WatchCacheLimits/totalWindowBytes``): a server with many resources (every custom
/// resource has a cache) keeps its watch caches' history within a bound that does not grow
/// with the number of resources. A cache over the total gives back its oldest changes.
final class WindowBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Counts `bytes` more (or fewer, when negative) held.
    func add(_ bytes: Int) {
        used.add(bytes, ordering: .relaxed)
    }

    /// Whether the windows together hold more than the limit.
    var isOver: Bool { used.load(ordering: .relaxed) > limit }

    /// The bytes held now.
    var total: Int { used.load(ordering: .relaxed) }
}
