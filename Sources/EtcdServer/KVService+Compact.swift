import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// Compact: removes history up to a revision. Skiff's compaction is always physical (the
    /// rows are gone when it answers), so `physical` needs nothing extra.
    func compact(_ request: Etcdserverpb_CompactionRequest) async throws -> Etcdserverpb_CompactionResponse {
        try await EtcdError.mapping {
            try await store.compact(to: request.revision)
            var response = Etcdserverpb_CompactionResponse()
            response.header = identity.header(try await store.currentRevision())
            return response
        }
    }
}
