import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// Put, with `prev_kv`, `lease`, `ignore_value` and `ignore_lease`. A plain put is a
    /// simple batched write; one that keeps the current value or lease is a transaction.
    func put(_ request: Etcdserverpb_PutRequest, reply: @escaping Reply<Etcdserverpb_PutResponse>) {
        do { try limits.check(request) } catch { return reply(.failure(EtcdError.from(error))) }
        let identity = self.identity
        @Sendable func respond(revision: Int64, previous: KeyValue?) -> Etcdserverpb_PutResponse {
            var response = Etcdserverpb_PutResponse()
            response.header = identity.header(revision)
            if request.prevKv, let previous { response.prevKv = Mvccpb_KeyValue(previous) }
            return response
        }
        if request.ignoreValue || request.ignoreLease {
            store.txn(Txn(success: [.put(TxnPut(request))])) { result in
                reply(result.map { txn in
                    let previous: KeyValue? = if case .put(let p)? = txn.results.first { p } else { nil }
                    return respond(revision: txn.revision, previous: previous)
                }.mapError(EtcdError.from))
            }
        } else {
            store.put(Array(request.key), value: Array(request.value), lease: request.lease) { result in
                reply(result.map { respond(revision: $0.kv.modRevision, previous: $0.previous) }.mapError(EtcdError.from))
            }
        }
    }
}
