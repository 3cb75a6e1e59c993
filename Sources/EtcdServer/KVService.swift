import EtcdAPI
import GRPCCore
import KineLayer

/// The etcd `KV` service: Range, Put, DeleteRange, Txn and Compact on the KineLayer. Each
/// verb lives in its own file (`KVService+Verb.swift`).
struct KVService: Etcdserverpb_KV.SimpleServiceProtocol {
    let store: KineStore
    let identity: EtcdIdentity
    let limits: RequestLimits

    /// Where a KV call's answer goes: the transport's callback, or a continuation.
    typealias Reply<Response> = @Sendable (Result<Response, RPCError>) -> Void

    /// The answer of a callback-style verb, awaited.
    static func awaiting<Response: Sendable>(_ start: (@escaping Reply<Response>) -> Void) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in start { continuation.resume(with: $0) } }
    }

    // The service protocol's entry points (the server core's path; the transport answers
    // these inline, see ``inlineMethods``).

    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        try await Self.awaiting { put(request, reply: $0) }
    }

    func range(request: Etcdserverpb_RangeRequest, context: ServerContext) async throws -> Etcdserverpb_RangeResponse { try await range(request) }

    func deleteRange(request: Etcdserverpb_DeleteRangeRequest, context: ServerContext) async throws -> Etcdserverpb_DeleteRangeResponse {
        try await Self.awaiting { deleteRange(request, reply: $0) }
    }

    func txn(request: Etcdserverpb_TxnRequest, context: ServerContext) async throws -> Etcdserverpb_TxnResponse {
        try await Self.awaiting { txn(request, reply: $0) }
    }

    func compact(request: Etcdserverpb_CompactionRequest, context: ServerContext) async throws -> Etcdserverpb_CompactionResponse { try await compact(request) }
}
