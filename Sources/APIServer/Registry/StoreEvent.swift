/// One change to a stored object, as a store's watch reports it.
public struct StoreEvent: Sendable {
    public enum Kind: Sendable {
        case put
        case delete
    }

    public var kind: Kind
    public var key: String
    /// The new stored bytes of a put; empty for a delete.
    public var value: [UInt8]
    /// The revision of the change (for a put, the object's new mod revision).
    public var revision: Int64
    /// Whether a put created the key.
    public var isCreate: Bool
    /// The object before the change, when the key existed.
    public var previous: StoredEntry?

    /// The object a put left, as an entry.
    public var entry: StoredEntry { StoredEntry(key: key, modRevision: revision, value: value) }
}

/// What a store's watch sends.
public enum StoreWatchMessage: Sendable {
    /// Changes, in revision order.
    case events([StoreEvent])
    /// Every change up to this revision that the watch should see has been sent (the answer
    /// to ``ObjectStore/requestProgress(_:)``).
    case progress(revision: Int64)
}

/// A running watch: its ID (for progress requests and cancelling) and its messages.
public struct StoreWatch: Sendable {
    public let id: Int
    public let stream: any AsyncSequence<StoreWatchMessage, any Error> & Sendable
}

/// Which changes a watch's reader wants (``ObjectStore/watch(prefix:after:keep:)``).
public typealias StoreEventFilter = @Sendable (StoreEvent) -> Bool

/// Where one store watch's messages go, handed over synchronously by whoever delivers them
/// (the writer that made a change, or the caller asking for a progress marker), in order.
/// A watch cache keeps its objects current this way, with no task in between.
public protocol StoreWatchSink: Sendable {
    /// Takes a message. Returns `false` when the receiver cannot keep up: the watch then ends.
    /// Must not block or call back into the store.
    func receive(_ message: StoreWatchMessage) -> Bool

    /// The watch ended: normally (`nil`: cancelled, or the store closed) or with an error.
    func finish(_ error: (any Error)?)
}
