import Synchronization

/// Which history a round of automatic compaction removes.
public protocol CompactionPolicy: Sendable {
    /// The revision to compact to in a round that finds `current` as the newest revision
    /// (called once per round).
    func target(current: Int64) -> Int64
}

/// Keeps the newest `count` revisions (etcd's revision-mode auto-compaction).
public struct RetainRevisions: CompactionPolicy {
    public let count: Int64
    public init(_ count: Int64) { self.count = count }
    public func target(current: Int64) -> Int64 { current - count }
}

/// kube-apiserver's compaction: each round compacts to the revision that was the newest at
/// the round before, so a revision lives one to two intervals whatever the write rate.
public final class RetainOneInterval: CompactionPolicy {
    private let previous = Mutex<Int64>(0)
    public init() {}
    public func target(current: Int64) -> Int64 {
        previous.withLock { previous in
            defer { previous = current }
            return previous
        }
    }
}
