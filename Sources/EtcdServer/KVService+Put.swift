import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// Put, with `prev_kv`, `lease`, `ignore_value` and `ignore_lease`. A plain put is a
    /// simple batched write; one that keeps the current value or lease is a transaction.
    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        try limits.check(request)
        return try await EtcdError.mapping {
            var response = Etcdserverpb_PutResponse()
            let previous: KeyValue?
            if request.ignoreValue || request.ignoreLease {
                let result = try await store.txn(Txn(success: [.put(TxnPut(request))]))
                response.header = identity.header(result.revision)
                guard case .put(let p) = result.results.first else { return response }
                previous = p
            } else {
                let (kv, p) = try await store.put(Array(request.key), value: Array(request.value), lease: request.lease)
                response.header = identity.header(kv.modRevision)
                previous = p
            }
            if request.prevKv, let previous { response.prevKv = Mvccpb_KeyValue(previous) }
            return response
        }
    }
}
