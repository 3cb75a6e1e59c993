import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// Put, with `prev_kv`, `lease`, `ignore_value` and `ignore_lease`.
    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        try limits.check(request)
        return try await EtcdError.mapping {
            let result = try await store.txn(Txn(success: [.put(TxnPut(request))]))
            var response = Etcdserverpb_PutResponse()
            response.header = identity.header(result.revision)
            if request.prevKv, case .put(let previous?) = result.results.first {
                response.prevKv = Mvccpb_KeyValue(previous)
            }
            return response
        }
    }
}
