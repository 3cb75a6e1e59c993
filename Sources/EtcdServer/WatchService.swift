import EtcdAPI
import GRPCCore
import GRPCProtobuf
import KineLayer

/// The etcd `Watch` service: each bidirectional stream is a ``WatchSession`` carrying many
/// watches. Registered by hand rather than through the generated protocol because the
/// session sends responses it has encoded itself (``WatchResponseEncoder``).
struct WatchService: RegistrableRPCService {
    let store: KineStore
    let identity: EtcdIdentity
    let progressNotifyInterval: Duration

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let store = self.store, identity = self.identity, interval = progressNotifyInterval
        router.registerHandler(
            forMethod: Etcdserverpb_Watch.Method.Watch.descriptor,
            deserializer: ProtobufDeserializer<Etcdserverpb_WatchRequest>(),
            serializer: EncodedMessageSerializer(),
            handler: { request, _ in
                StreamingServerResponse { writer in
                    let session = WatchSession(store: store, identity: identity)
                    try await session.run(requests: request.messages, writer: writer, progressNotifyInterval: interval)
                    return [:]
                }
            })
    }
}
