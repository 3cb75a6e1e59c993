import EtcdAPI
import GRPCCore
import KineLayer

/// The etcd `Watch` service: each bidirectional stream is a ``WatchSession`` carrying many
/// watches. The transport runs it itself (an ``InlineStreamingMethod``): the session sends
/// responses it has encoded (``WatchResponseEncoder``) straight to the connection from the
/// thread that delivers the changes, with no task or server-core writer in between.
struct WatchService: InlineStreamingMethod {
    let store: KineStore
    let identity: EtcdIdentity
    let progressNotifyInterval: Duration

    var path: String { "/" + Etcdserverpb_Watch.Method.Watch.descriptor.fullyQualifiedMethod }

    func serve(requests: StreamRequests, output: StreamOutput) async throws {
        let decoded = requests.map { bytes in
            do {
                return try Etcdserverpb_WatchRequest(serializedBytes: bytes)
            } catch {
                throw RPCError(code: .invalidArgument, message: "could not decode a WatchRequest: \(error)")
            }
        }
        let session = WatchSession(store: store, identity: identity, output: output)
        // clientv3.WithRequireLeader (kube-apiserver's watches): end the stream when this
        // member has no leader, so that the client moves to a member that has one.
        let requireLeader = requests.metadata[stringValues: "hasleader"].contains("true")
        try await session.run(requests: decoded, progressNotifyInterval: progressNotifyInterval, requireLeader: requireLeader)
    }
}
