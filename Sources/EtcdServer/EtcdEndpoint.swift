import GRPCCore
import GRPCNIOTransportHTTP2
import KineLayer
import Logging

/// The etcd v3 gRPC endpoint over a ``KineStore``: what `etcdctl` and kube-apiserver's
/// `--etcd-servers` talk to.
public final class EtcdEndpoint: Sendable {
    public let configuration: EtcdConfiguration
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let logger: Logger

    /// Prepares the endpoint; ``run()`` starts serving.
    public init(store: KineStore, configuration: EtcdConfiguration, clusterName: String,
                logger: Logger = Logger(label: "skiff.etcd")) throws {
        self.configuration = configuration
        self.logger = logger
        let scheme = configuration.tls == nil ? "http" : "https"
        let identity = EtcdIdentity(
            clusterID: EtcdIdentity.id(from: "cluster:" + clusterName),
            memberID: EtcdIdentity.id(from: "member:" + clusterName + ":" + configuration.name),
            name: configuration.name,
            clientURL: "\(scheme)://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(configuration.port)")
        let limits = RequestLimits(maxRequestBytes: configuration.maxRequestBytes, maxTxnOps: configuration.maxTxnOps)
        let address: GRPCNIOTransportCore.SocketAddress = configuration.host.contains(":")
            ? .ipv6(host: configuration.host, port: configuration.port)
            : .ipv4(host: configuration.host, port: configuration.port)
        transport = HTTP2ServerTransport.Posix(
            address: address,
            transportSecurity: Self.security(configuration.tls),
            config: .defaults { config in
                // Requests up to the limit plus gRPC's framing; larger ones are refused by
                // the handlers with etcd's own "request is too large".
                config.rpc.maxRequestPayloadSize = configuration.maxRequestBytes + 512 * 1024
                // kube-apiserver multiplexes every watch on few connections.
                config.http2.maxConcurrentStreams = 10_000
                config.http2.targetWindowSize = 8 * 1024 * 1024
            })
        server = GRPCServer(transport: transport, services: [
            KVService(store: store, identity: identity, limits: limits),
            WatchService(store: store, identity: identity, progressNotifyInterval: configuration.progressNotifyInterval),
            LeaseService(store: store, identity: identity),
            MaintenanceService(store: store, identity: identity),
            ClusterService(store: store, identity: identity),
        ])
    }

    private static func security(_ tls: EtcdConfiguration.TLSFiles?) -> HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        return .tls(certificateChain: [.file(path: tls.certificateFile, format: .pem)],
                    privateKey: .file(path: tls.keyFile, format: .pem)) { config in
            if let ca = tls.trustedCAFile {
                config.clientCertificateVerification = .noHostnameVerification
                config.trustRoots = .certificates([.file(path: ca, format: .pem)])
            }
        }
    }

    /// Serves until the surrounding task is cancelled, then stops gracefully.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await server.serve()
        } onCancel: {
            server.beginGracefulShutdown()
        }
    }

    /// The port the endpoint listens on, once it does.
    public func listeningPort() async throws -> Int {
        let address = try await transport.listeningAddress
        return address.ipv4?.port ?? address.ipv6?.port ?? configuration.port
    }
}
