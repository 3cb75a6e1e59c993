import EtcdAPI
import GRPCCore
import KineLayer

/// The etcd `Watch` service: each bidirectional stream is a ``WatchSession`` carrying many
/// watches.
struct WatchService: Etcdserverpb_Watch.SimpleServiceProtocol {
    let store: KineStore
    let identity: EtcdIdentity
    let progressNotifyInterval: Duration

    func watch(request: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>,
               response: RPCWriter<Etcdserverpb_WatchResponse>, context: ServerContext) async throws {
        let session = WatchSession(store: store, identity: identity)
        try await session.run(requests: request, writer: response, progressNotifyInterval: progressNotifyInterval)
    }
}
