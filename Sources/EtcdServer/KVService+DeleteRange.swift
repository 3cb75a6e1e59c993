import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// DeleteRange: every key of the range, at one revision, with `prev_kv` (on a replicated
    /// datastore a range of very many keys goes in steps: ``KineStore/deleteRange(_:)``).
    func deleteRange(_ request: Etcdserverpb_DeleteRangeRequest, reply: @escaping Reply<Etcdserverpb_DeleteRangeResponse>) {
        do { try limits.check(request) } catch { return reply(.failure(EtcdError.from(error))) }
        let identity = self.identity
        let range = KeyRange(key: request.key, rangeEnd: request.rangeEnd)
        let respond: @Sendable (Result<TxnResult, any Error>) -> Void = { result in
            reply(result.map { txn in
                var response = Etcdserverpb_DeleteRangeResponse()
                response.header = identity.header(txn.revision)
                if case .deleteRange(let deleted)? = txn.results.first {
                    response.deleted = Int64(deleted.count)
                    if request.prevKv { response.prevKvs = deleted.map(Mvccpb_KeyValue.init) }
                }
                return response
            }.mapError(EtcdError.from))
        }
        guard range.end != .single else { return store.txn(Txn(success: [.deleteRange(range)]), completion: respond) }
        let store = self.store
        Task {
            do { respond(.success(try await store.deleteRange(range))) } catch { respond(.failure(error)) }
        }
    }
}
