import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// Range: one key or a range, at a revision, with limit, sort, filters, keys-only and
    /// count-only. Reads are always linearizable here (one SQL database), so `serializable`
    /// needs no special path.
    func range(_ request: Etcdserverpb_RangeRequest) async throws -> Etcdserverpb_RangeResponse {
        try limits.check(request)
        return try await EtcdError.mapping {
            let (revision, result) = try await store.range(RangeQuery(request))
            return Etcdserverpb_RangeResponse(result, header: identity.header(revision))
        }
    }
}
