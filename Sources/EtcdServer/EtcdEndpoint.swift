import GRPCCore
import NIOSSL
import KineLayer
import Logging

/// The etcd v3 gRPC endpoint over a ``KineStore``: what `etcdctl` and kube-apiserver's
/// `--etcd-servers` talk to.
public final class EtcdEndpoint: Sendable {
    public let configuration: EtcdConfiguration
    private let server: GRPCServer<GRPCFrameTransport>
    private let transport: GRPCFrameTransport
    private let logger: Logger

    /// Prepares the endpoint; ``run()`` starts serving. `extraMetrics` adds Prometheus text
    /// to the port's `/metrics` (etcd serves its metrics, health and version beside gRPC).
    public init(store: KineStore, configuration: EtcdConfiguration, clusterName: String,
                logger: Logger = Logger(label: "skiff.etcd"), extraMetrics: @escaping @Sendable () -> String = { "" }) throws {
        self.configuration = configuration
        self.logger = logger
        let scheme = configuration.tls == nil ? "http" : "https"
        let identity = EtcdIdentity(
            clusterID: EtcdIdentity.id(from: "cluster:" + clusterName),
            memberID: EtcdIdentity.id(from: "member:" + clusterName + ":" + configuration.name),
            name: configuration.name,
            clientURL: "\(scheme)://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(configuration.port)")
        let limits = RequestLimits(maxRequestBytes: configuration.maxRequestBytes, maxTxnOps: configuration.maxTxnOps)
        let kv = KVService(store: store, identity: identity, limits: limits)
        var transportConfiguration = GRPCFrameTransport.Configuration(
            host: configuration.host, port: configuration.port, tls: try Self.tls(configuration.tls),
            // Requests up to the limit plus gRPC's framing; larger ones are refused by the
            // handlers with etcd's own "request is too large".
            maxMessageBytes: configuration.maxRequestBytes + 512 * 1024)
        transportConfiguration.plain = EtcdHTTPEndpoints(store: store, extraMetrics: extraMetrics)
        let watch = WatchService(store: store, identity: identity, progressNotifyInterval: configuration.progressNotifyInterval)
        transport = GRPCFrameTransport(configuration: transportConfiguration, inline: kv.inlineMethods, streaming: [watch])
        server = GRPCServer(transport: transport, services: [
            kv,
            LeaseService(store: store, identity: identity),
            MaintenanceService(store: store, identity: identity),
            ClusterService(store: store, identity: identity),
        ])
    }

    private static func tls(_ files: EtcdConfiguration.TLSFiles?) throws -> TLSConfiguration? {
        guard let files else { return nil }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: files.keyFile, format: .pem)))
        // gRPC clients insist on ALPN's h2; HTTP/1.1 is for /metrics, /health and /version.
        tls.applicationProtocols = ["h2", "http/1.1"]
        if let ca = files.trustedCAFile {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(ca)
        }
        return tls
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
        try await transport.listeningAddress.port ?? configuration.port
    }
}
