/// An etcd transaction: if every compare holds, the success operations run, else the
/// failure ones; all of it atomically, and every change it makes at one revision.
public struct Txn: Sendable, Hashable {
    public var compares: [TxnCompare]
    public var success: [TxnOperation]
    public var failure: [TxnOperation]

    public init(compares: [TxnCompare] = [], success: [TxnOperation] = [], failure: [TxnOperation] = []) {
        self.compares = compares
        self.success = success
        self.failure = failure
    }
}

/// A condition on the keys of a range (usually one key).
public struct TxnCompare: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
        case lease(Int64)
    }

    public enum Relation: Sendable, Hashable { case equal, greater, less, notEqual }

    public var range: KeyRange
    public var target: Target
    public var relation: Relation

    public init(range: KeyRange, target: Target, relation: Relation) {
        self.range = range
        self.target = target
        self.relation = relation
    }

    /// Whether the compare holds for the keys the range holds now. As in etcd: a missing key
    /// compares as zeros, except that a value compare on no keys fails; over several keys,
    /// every key must satisfy it.
    func holds(for kvs: [KeyValue]) -> Bool {
        if kvs.isEmpty {
            if case .value = target { return false }
            return holds(for: KeyValue(key: range.start, value: [], createRevision: 0, modRevision: 0, version: 0, lease: 0))
        }
        return kvs.allSatisfy(holds(for:))
    }

    private func holds(for kv: KeyValue) -> Bool {
        let order: Int
        switch target {
        case .version(let v): order = compare(kv.version, v)
        case .createRevision(let v): order = compare(kv.createRevision, v)
        case .modRevision(let v): order = compare(kv.modRevision, v)
        case .lease(let v): order = compare(kv.lease, v)
        case .value(let v):
            order = kv.value == v ? 0 : (kv.value.lexicographicallyPrecedes(v) ? -1 : 1)
        }
        switch relation {
        case .equal: return order == 0
        case .greater: return order > 0
        case .less: return order < 0
        case .notEqual: return order != 0
        }
    }

    private func compare(_ a: Int64, _ b: Int64) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
}

/// One operation of a transaction.
public indirect enum TxnOperation: Sendable, Hashable {
    case range(RangeQuery)
    case put(TxnPut)
    /// Delete every key in the range.
    case deleteRange(KeyRange)
    case txn(Txn)
}

/// A put with etcd's options.
public struct TxnPut: Sendable, Hashable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var lease: Int64
    /// Keep the key's current value (the key must exist).
    public var ignoreValue: Bool
    /// Keep the key's current lease (the key must exist).
    public var ignoreLease: Bool

    public init(key: [UInt8], value: [UInt8], lease: Int64 = 0, ignoreValue: Bool = false, ignoreLease: Bool = false) {
        self.key = key
        self.value = value
        self.lease = lease
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}

/// What a transaction did.
public struct TxnResult: Sendable, Hashable {
    /// Whether the compares held (the success branch ran).
    public var succeeded: Bool
    /// One result per operation of the branch that ran.
    public var results: [TxnOperationResult]
    /// The store's revision after the transaction.
    public var revision: Int64
}

public indirect enum TxnOperationResult: Sendable, Hashable {
    case range(RangeResult)
    /// The key's previous value, if it existed.
    case put(previous: KeyValue?)
    /// The keys deleted, as they were.
    case deleteRange(deleted: [KeyValue])
    case txn(TxnResult)
}

extension Txn {
    /// The single keys and the leases the transaction may touch, so that a batch can load
    /// them with everything else.
    func collectKeys(into keys: inout Set<HashedKey>, leases: inout Set<Int64>) {
        for compare in compares where compare.range.end == .single { keys.insert(HashedKey(compare.range.start)) }
        for op in success + failure {
            switch op {
            case .put(let put):
                keys.insert(HashedKey(put.key))
                if put.lease != 0 { leases.insert(put.lease) }
            case .range(let query) where query.range.end == .single:
                keys.insert(HashedKey(query.range.start))
            case .deleteRange(let range) where range.end == .single:
                keys.insert(HashedKey(range.start))
            case .txn(let inner):
                inner.collectKeys(into: &keys, leases: &leases)
            default:
                break
            }
        }
    }
}
