import KineLayer

/// The store's failures a request can meet, whatever the store; each has a `Status`.
public enum ObjectStoreError: Error, Sendable, CustomStringConvertible {
    /// The requested revision is older than the store keeps.
    case compacted(compactRevision: Int64, requested: Int64)
    /// The requested revision is newer than the store's.
    case futureRevision(requested: Int64, current: Int64)
    /// The store cannot take requests now (a replicated database without a leader); the
    /// request was not carried out.
    case unavailable(String)
    /// The store failed; what it said is in the server's log.
    case failed(String)

    public var description: String {
        switch self {
        case .compacted(let c, let r): return "required revision \(r) has been compacted (compact revision \(c))"
        case .futureRevision(let r, let c): return "required revision \(r) is a future revision (current \(c))"
        case .unavailable(let why): return "storage unavailable: \(why)"
        case .failed(let why): return "storage failed: \(why)"
        }
    }

    /// The store error `error` is, if it is one: errors of the kine layer and the databases
    /// under it are mapped to their kind.
    public static func classify(_ error: any Error) -> ObjectStoreError? {
        if let store = error as? ObjectStoreError { return store }
        switch KineError.classify(error) {
        case .compacted(let compacted, let requested)?: return .compacted(compactRevision: compacted, requested: requested)
        case .futureRevision(let requested, let current)?: return .futureRevision(requested: requested, current: current)
        case .unavailable(let why)?: return .unavailable(why)
        case .storageFailed(let why)?: return .failed(why)
        case let kine?: return .failed(kine.description)
        case nil: return nil
        }
    }

    /// The `Status` a client gets for it.
    public var status: StatusError {
        switch self {
        case .compacted(let compacted, let requested):
            return StatusError.expired("too old resource version: \(requested) (\(compacted))")
        case .futureRevision(let requested, _):
            return StatusError.timeout("Too large resource version: \(requested)")
        case .unavailable:
            return StatusError.serviceUnavailable("the storage cluster has no leader; the request was not carried out")
        case .failed:
            return StatusError.internalError("the storage backend failed; see the server's log")
        }
    }
}
