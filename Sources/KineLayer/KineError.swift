import Storage

/// Errors of the key-value log, in terms a caller can act on.
public enum KineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A create found the key present.
    case keyExists(current: KeyValue)
    /// The key does not exist (update or delete of a missing key).
    case notFound(key: [UInt8])
    /// The key's mod revision is not the one the write expected.
    case conflict(current: KeyValue)
    /// The revision asked for has been compacted away; `compactRevision` is the oldest kept.
    case compacted(compactRevision: Int64, requested: Int64)
    /// The revision asked for is newer than the current one.
    case futureRevision(requested: Int64, current: Int64)
    /// The lease does not exist (never granted, revoked, or expired).
    case leaseNotFound(id: Int64)
    /// A lease with this ID already exists.
    case leaseExists(id: Int64)
    /// The argument is out of range or malformed.
    case invalidArgument(String)
    /// A watcher fell too far behind and was dropped; it must start again.
    case watcherOverflow
    /// The store has been closed.
    case closed
    /// The replicated database found no leader it could reach in time; nothing was done.
    case unavailable(String)
    /// The database failed in a way no retry inside Skiff could mend (an I/O error, say).
    /// A write that fails so was not committed, unless its outcome could not be learned
    /// (then it is reported as such).
    case storageFailed(String)

    public var description: String {
        switch self {
        case .keyExists(let kv): return "key \(kv.keyString) already exists"
        case .notFound(let key): return "key \(String(decoding: key, as: UTF8.self)) not found"
        case .conflict(let kv): return "key \(kv.keyString) was modified (mod revision is now \(kv.modRevision))"
        case .compacted(let c, let r): return "required revision \(r) has been compacted (compact revision \(c))"
        case .futureRevision(let r, let c): return "required revision \(r) is a future revision (current \(c))"
        case .leaseNotFound(let id): return "requested lease \(id) not found"
        case .leaseExists(let id): return "lease \(id) already exists"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .watcherOverflow: return "watcher fell too far behind and was dropped"
        case .closed: return "store is closed"
        case .unavailable(let why): return "storage unavailable: \(why)"
        case .storageFailed(let why): return "storage failed: \(why)"
        }
    }

    /// Any error a store's operation threw, as a ``KineError``: storage errors become
    /// ``unavailable(_:)``, ``closed`` or ``storageFailed(_:)``; other errors (not from the
    /// store) are returned as `nil`.
    public static func classify(_ error: any Error) -> KineError? {
        switch error {
        case let kine as KineError: return kine
        case StorageError.unavailable(let why): return .unavailable(why)
        case StorageError.closed: return .closed
        case let storage as StorageError: return .storageFailed(storage.description)
        default: return nil
        }
    }
}
