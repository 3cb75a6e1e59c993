import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// DeleteRange: every key of the range, at one revision, with `prev_kv`.
    func deleteRange(request: Etcdserverpb_DeleteRangeRequest, context: ServerContext) async throws -> Etcdserverpb_DeleteRangeResponse {
        try limits.check(request)
        return try await EtcdError.mapping {
            let result = try await store.txn(Txn(success: [.deleteRange(KeyRange(key: request.key, rangeEnd: request.rangeEnd))]))
            var response = Etcdserverpb_DeleteRangeResponse()
            response.header = identity.header(result.revision)
            if case .deleteRange(let deleted) = result.results.first {
                response.deleted = Int64(deleted.count)
                if request.prevKv { response.prevKvs = deleted.map(Mvccpb_KeyValue.init) }
            }
            return response
        }
    }
}
