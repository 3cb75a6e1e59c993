import EtcdAPI
import GRPCCore
import KineLayer

/// The etcd `KV` service: Range, Put, DeleteRange, Txn and Compact on the KineLayer. Each
/// verb lives in its own file (`KVService+Verb.swift`).
struct KVService: Etcdserverpb_KV.SimpleServiceProtocol {
    let store: KineStore
    let identity: EtcdIdentity
    let limits: RequestLimits
}
