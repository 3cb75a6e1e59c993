/// One change in the log, as a watcher receives it.
public struct Event: Sendable, Hashable {
    /// What happened to the key.
    public enum Kind: Sendable, Hashable {
        case put
        case delete
    }

    public var kind: Kind
    /// The key after the change. For a delete: the key, an empty value, and the deletion's
    /// revision as mod revision.
    public var kv: KeyValue
    /// The key before the change, when it existed.
    public var prevKV: KeyValue?

    public init(kind: Kind, kv: KeyValue, prevKV: KeyValue?) {
        self.kind = kind
        self.kv = kv
        self.prevKV = prevKV
    }

    /// The revision of the change.
    public var revision: Int64 { kv.modRevision }
    /// Whether this put created the key.
    public var isCreate: Bool { kind == .put && kv.createRevision == kv.modRevision }
}
