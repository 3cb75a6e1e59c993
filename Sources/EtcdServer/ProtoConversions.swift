import EtcdAPI
import Foundation
import KineLayer

extension Mvccpb_KeyValue {
    init(_ kv: KeyValue) {
        self.init()
        key = Data(kv.key)
        value = Data(kv.value)
        createRevision = kv.createRevision
        modRevision = kv.modRevision
        version = kv.version
        lease = kv.lease
    }
}

extension Mvccpb_Event {
    init(_ event: Event, prevKV: Bool) {
        self.init()
        type = event.kind == .put ? .put : .delete
        kv = Mvccpb_KeyValue(event.kv)
        if prevKV, let previous = event.prevKV { prevKv = Mvccpb_KeyValue(previous) }
    }
}

extension KeyRange {
    /// The range an etcd request names with `key` and `range_end`.
    init(key: Data, rangeEnd: Data) {
        self = .etcd(key: Array(key), rangeEnd: Array(rangeEnd))
    }
}

extension RangeQuery {
    init(_ r: Etcdserverpb_RangeRequest) {
        self.init(range: KeyRange(key: r.key, rangeEnd: r.rangeEnd))
        revision = r.revision
        limit = r.limit
        switch r.sortOrder {
        case .ascend: sortOrder = .ascending
        case .descend: sortOrder = .descending
        default: sortOrder = .none
        }
        switch r.sortTarget {
        case .version: sortTarget = .version
        case .create: sortTarget = .createRevision
        case .mod: sortTarget = .modRevision
        case .value: sortTarget = .value
        default: sortTarget = .key
        }
        keysOnly = r.keysOnly
        countOnly = r.countOnly
        minModRevision = r.minModRevision
        maxModRevision = r.maxModRevision
        minCreateRevision = r.minCreateRevision
        maxCreateRevision = r.maxCreateRevision
    }
}

extension Etcdserverpb_RangeResponse {
    init(_ result: RangeResult, header: Etcdserverpb_ResponseHeader) {
        self.init()
        self.header = header
        kvs = result.kvs.map(Mvccpb_KeyValue.init)
        more = result.more
        count = result.count
    }
}

extension TxnPut {
    init(_ p: Etcdserverpb_PutRequest) {
        self.init(key: Array(p.key), value: Array(p.value), lease: p.lease, ignoreValue: p.ignoreValue, ignoreLease: p.ignoreLease)
    }
}

extension TxnCompare {
    init(_ c: Etcdserverpb_Compare) {
        let target: Target
        switch c.target {
        case .version: target = .version(c.version)
        case .create: target = .createRevision(c.createRevision)
        case .mod: target = .modRevision(c.modRevision)
        case .value: target = .value(Array(c.value))
        case .lease: target = .lease(c.lease)
        case .UNRECOGNIZED: target = .version(c.version)
        }
        let relation: Relation
        switch c.result {
        case .equal: relation = .equal
        case .greater: relation = .greater
        case .less: relation = .less
        case .notEqual: relation = .notEqual
        case .UNRECOGNIZED: relation = .equal
        }
        self.init(range: KeyRange(key: c.key, rangeEnd: c.rangeEnd), target: target, relation: relation)
    }
}

extension Txn {
    init(_ t: Etcdserverpb_TxnRequest) {
        self.init(compares: t.compare.map(TxnCompare.init),
                  success: t.success.compactMap(TxnOperation.init),
                  failure: t.failure.compactMap(TxnOperation.init))
    }
}

extension TxnOperation {
    init?(_ op: Etcdserverpb_RequestOp) {
        switch op.request {
        case .requestRange(let r): self = .range(RangeQuery(r))
        case .requestPut(let p): self = .put(TxnPut(p))
        case .requestDeleteRange(let d): self = .deleteRange(KeyRange(key: d.key, rangeEnd: d.rangeEnd))
        case .requestTxn(let t): self = .txn(Txn(t))
        case nil: return nil
        }
    }
}
