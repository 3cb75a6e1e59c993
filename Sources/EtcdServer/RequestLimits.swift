import EtcdAPI
import GRPCCore
import KineLayer

/// The checks etcd makes on a request before it runs: keys given, sizes, the number of
/// transaction operations, and no key written twice in one transaction.
struct RequestLimits: Sendable {
    let maxRequestBytes: Int
    let maxTxnOps: Int

    func check(_ r: Etcdserverpb_PutRequest) throws {
        if r.key.isEmpty { throw EtcdError.emptyKey }
        if r.key.count + r.value.count > maxRequestBytes { throw EtcdError.requestTooLarge }
    }

    func check(_ r: Etcdserverpb_RangeRequest) throws {
        if r.key.isEmpty { throw EtcdError.emptyKey }
    }

    func check(_ r: Etcdserverpb_DeleteRangeRequest) throws {
        if r.key.isEmpty { throw EtcdError.emptyKey }
    }

    func check(_ t: Etcdserverpb_TxnRequest) throws {
        if t.compare.count > maxTxnOps || t.success.count > maxTxnOps || t.failure.count > maxTxnOps {
            throw EtcdError.tooManyOps
        }
        if size(t) > maxRequestBytes { throw EtcdError.requestTooLarge }
        for c in t.compare where c.key.isEmpty { throw EtcdError.emptyKey }
        for branch in [t.success, t.failure] {
            for op in branch {
                switch op.request {
                case .requestPut(let p): try check(p)
                case .requestRange(let r): try check(r)
                case .requestDeleteRange(let d): try check(d)
                case .requestTxn(let inner): try check(inner)
                case nil: break
                }
            }
            try checkNoDuplicates(branch)
        }
    }

    /// No key may be put twice, or put and deleted, by one branch (counting nested
    /// transactions' branches as part of it).
    private func checkNoDuplicates(_ branch: [Etcdserverpb_RequestOp]) throws {
        var puts = Set<[UInt8]>()
        var deletes: [KeyRange] = []
        func collect(_ ops: [Etcdserverpb_RequestOp]) throws {
            for op in ops {
                switch op.request {
                case .requestPut(let p):
                    if !puts.insert(Array(p.key)).inserted { throw EtcdError.duplicateKey }
                case .requestDeleteRange(let d):
                    deletes.append(KeyRange(key: d.key, rangeEnd: d.rangeEnd))
                case .requestTxn(let inner):
                    try collect(inner.success)
                    try collect(inner.failure)
                default:
                    break
                }
            }
        }
        try collect(branch)
        for key in puts where deletes.contains(where: { $0.contains(key) }) { throw EtcdError.duplicateKey }
    }

    private func size(_ t: Etcdserverpb_TxnRequest) -> Int {
        var total = t.compare.reduce(0) { $0 + $1.key.count + $1.value.count + $1.rangeEnd.count }
        for op in t.success + t.failure {
            switch op.request {
            case .requestPut(let p): total += p.key.count + p.value.count
            case .requestRange(let r): total += r.key.count + r.rangeEnd.count
            case .requestDeleteRange(let d): total += d.key.count + d.rangeEnd.count
            case .requestTxn(let inner): total += size(inner)
            case nil: break
            }
        }
        return total
    }
}
