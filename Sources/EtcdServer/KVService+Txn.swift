import EtcdAPI
import GRPCCore
import KineLayer

extension KVService {
    /// Txn: any compares, then the success or failure operations (range, put, delete,
    /// nested txn), atomically, all changes at one revision.
    func txn(_ request: Etcdserverpb_TxnRequest, reply: @escaping Reply<Etcdserverpb_TxnResponse>) {
        do { try limits.check(request) } catch { return reply(.failure(EtcdError.from(error))) }
        store.txn(Txn(request)) { result in
            reply(result.map { txnResponse(for: $0, request: request) }.mapError(EtcdError.from))
        }
    }

    private func txnResponse(for result: TxnResult, request: Etcdserverpb_TxnRequest) -> Etcdserverpb_TxnResponse {
        var out = Etcdserverpb_TxnResponse()
        out.header = identity.header(result.revision)
        out.succeeded = result.succeeded
        let ops = (result.succeeded ? request.success : request.failure).filter { $0.request != nil }
        out.responses = zip(ops, result.results).map { op, outcome in
            var r = Etcdserverpb_ResponseOp()
            switch (op.request, outcome) {
            case (.requestRange, .range(let range)):
                r.responseRange = Etcdserverpb_RangeResponse(range, header: identity.header(result.revision))
            case (.requestPut(let put), .put(let previous)):
                var p = Etcdserverpb_PutResponse()
                p.header = identity.header(result.revision)
                if put.prevKv, let previous { p.prevKv = Mvccpb_KeyValue(previous) }
                r.responsePut = p
            case (.requestDeleteRange(let delete), .deleteRange(let deleted)):
                var d = Etcdserverpb_DeleteRangeResponse()
                d.header = identity.header(result.revision)
                d.deleted = Int64(deleted.count)
                if delete.prevKv { d.prevKvs = deleted.map(Mvccpb_KeyValue.init) }
                r.responseDeleteRange = d
            case (.requestTxn(let inner), .txn(let innerResult)):
                r.responseTxn = txnResponse(for: innerResult, request: inner)
            default:
                break
            }
            return r
        }
        return out
    }
}
