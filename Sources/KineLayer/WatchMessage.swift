/// What a watch stream carries.
public enum WatchMessage: Sendable, Hashable {
    /// Changes, in revision order.
    case events([Event])
    /// Every change up to this revision that the watch should see has been sent before this
    /// message (the answer to ``KineStore/requestProgress(_:)``).
    case progress(revision: Int64)
}

/// A running watch: its ID (for progress requests) and its stream.
public struct KineWatch: Sendable {
    public let id: Int
    public let stream: AsyncThrowingStream<WatchMessage, any Error>
}
