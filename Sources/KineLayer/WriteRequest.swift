/// One change to one key, with the condition under which it may happen.
struct WriteOperation: Sendable, Hashable {
    enum Action: Sendable, Hashable {
        /// Set the key's value (creating the key if absent) and its lease.
        case put(value: [UInt8], lease: Int64)
        /// Delete the key (it must exist).
        case delete
    }

    enum Precondition: Sendable, Hashable {
        /// No condition (a delete still needs the key to exist).
        case none
        /// The key must not exist.
        case absent
        /// The key must exist with this mod revision.
        case modRevision(Int64)
    }

    var key: [UInt8]
    var action: Action
    var precondition: Precondition
}

/// A unit of work for the committer: it succeeds or fails on its own, whatever else is in
/// the same batch.
enum WriteRequest: Sendable, Hashable {
    case operation(WriteOperation)
    /// Delete every key attached to the lease (one revision each), then the lease. With
    /// `expiredBy`, only if the lease's expiry is at or before that time (ms since the
    /// epoch): a keep-alive that landed first wins, and the request changes nothing.
    case revokeLease(id: Int64, expiredBy: Int64?)
    /// An etcd transaction.
    case txn(Txn)
}

extension WriteRequest {
    /// The bytes of keys and values the request carries (what a batch's size is counted in).
    var payloadBytes: Int {
        switch self {
        case .operation(let op): return op.payloadBytes
        case .revokeLease: return 64
        case .txn(let txn): return txn.payloadBytes
        }
    }
}

extension Txn {
    /// The keys and values of both branches (only one runs; the batch is sized for either).
    var payloadBytes: Int {
        success.reduce(0) { $0 + $1.payloadBytes } + failure.reduce(0) { $0 + $1.payloadBytes }
    }
}

extension TxnOperation {
    var payloadBytes: Int {
        switch self {
        case .range: return 0
        case .put(let put): return put.key.count + put.value.count
        case .deleteRange(let range): return range.start.count
        case .txn(let txn): return txn.payloadBytes
        }
    }
}

extension WriteOperation {
    var payloadBytes: Int {
        if case .put(let value, _) = action { return key.count + value.count }
        return key.count
    }
}

/// What a successful ``WriteRequest`` did.
struct WriteResult: Sendable, Hashable {
    /// The revision of the last row it wrote (the store's revision for a no-op).
    var revision: Int64
    /// The key after the write (`nil` after a delete or a lease revocation).
    var kv: KeyValue?
    /// The key before the write, when it existed.
    var previous: KeyValue?
    /// What a transaction did.
    var txn: TxnResult?
}
