import APIServer
import ArgumentParser
import EtcdServer
import Foundation
import KineLayer
import Logging
import Storage

/// `skiff server`: the Kubernetes API server (HTTPS, HTTP/2 and HTTP/1.1) on SQLite, and
/// optionally the etcd v3 endpoint from the same process.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve the Kubernetes API (and optionally the etcd v3 API) from SQLite or a dqlite cluster.")

    @Option(name: .customLong("data-dir"), help: "Where the database and certificates live.")
    var dataDir: String = ServerCommand.defaultDataDirectory

    @Option(name: .customLong("listen"), help: "The address to serve the Kubernetes API on, ADDR:PORT.")
    var listen: String = "0.0.0.0:6443"

    @Option(name: .customLong("etcd-listen"), help: "Also serve the etcd v3 API (plain HTTP/2) on ADDR:PORT.")
    var etcdListen: String?

    @Option(name: .customLong("etcd-cert-file"), help: "TLS certificate of the etcd endpoint (with --etcd-key-file and --etcd-trusted-ca-file).")
    var etcdCertFile: String?

    @Option(name: .customLong("etcd-key-file"), help: "TLS key of the etcd endpoint.")
    var etcdKeyFile: String?

    @Option(name: .customLong("etcd-trusted-ca-file"), help: "CA the etcd endpoint's clients must present certificates from.")
    var etcdTrustedCAFile: String?

    @OptionGroup var watchProgress: WatchProgressOptions

    @Option(name: .customLong("tls-san"), help: "An extra host name or IP address for the serving certificate (repeatable).")
    var tlsSANs: [String] = []

    @Option(name: .customLong("token-auth-file"), help: "Static bearer tokens: CSV lines token,user,uid[,\"group1,group2\"].")
    var tokenAuthFile: String?

    @Option(name: .customLong("service-cluster-ip-range"), help: "The IPv4 range Service cluster IPs come from.")
    var serviceClusterIPRange: String = "10.96.0.0/12"

    @OptionGroup var datastore: DatastoreOptions

    @OptionGroup var httpLimits: HTTPLimitOptions

    @Option(name: .customLong("etcd-compaction-interval"),
            help: "How often history older than the previous round is compacted, as kube-apiserver compacts (Go duration; 0 turns it off).")
    var compactionInterval: DurationArgument = DurationArgument(.seconds(60))

    @Option(name: .customLong("audit-log-path"), help: "Write an audit log here: one JSON line (audit.k8s.io/v1 Event) per request.")
    var auditLogPath: String?

    @Option(name: .customLong("audit-policy-file"), help: "Audit policy (audit.k8s.io/v1 Policy, YAML or JSON); default: Metadata for every request.")
    var auditPolicyFile: String?

    @Option(name: .customLong("authorization-mode"),
            help: "Authorizers in order, comma-separated: Node (kubelets, as system:node:NAME, reach what their pods use), RBAC (roles and bindings decide; system:masters may do everything), AlwaysAllow (every authenticated user may do everything).")
    var authorizationMode: String = "Node,RBAC"

    @Option(name: .customLong("controllers"),
            help: "Which of Skiff's control loops run, in kube-controller-manager's --controllers syntax: '*' for all, 'name' to turn one on, '-name' to turn one off ('*,-garbagecollector'); 'none' runs none. Loops: serviceaccount (with root-ca-cert-publisher), namespace, garbagecollector, clusterrole-aggregation, resourcequota, certificatesigningrequest-signing (csrsigning). Turn off those a real kube-controller-manager runs.")
    var controllers: String = "*"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    static var defaultDataDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.skiff"
    }

    func validate() throws {
        _ = try Self.hostPort(listen, flag: "--listen")
        if let etcdListen {
            let (etcdHost, _) = try Self.hostPort(etcdListen, flag: "--etcd-listen")
            let files = [etcdCertFile, etcdKeyFile, etcdTrustedCAFile]
            if files.contains(where: { $0 != nil }), files.contains(where: { $0 == nil }) {
                throw ValidationError("--etcd-cert-file, --etcd-key-file and --etcd-trusted-ca-file go together")
            }
            // The etcd endpoint serves every object, Secrets included, with no authorization
            // of its own: beyond this machine only to clients with a certificate.
            if !EtcdConfiguration.isLoopback(etcdHost), etcdTrustedCAFile == nil {
                throw ValidationError("--etcd-listen \(etcdListen) would serve every object, Secrets included, to anyone who can connect: listen on a loopback address (127.0.0.1) or require client certificates with --etcd-cert-file, --etcd-key-file and --etcd-trusted-ca-file")
            }
        } else if etcdCertFile != nil || etcdKeyFile != nil || etcdTrustedCAFile != nil {
            throw ValidationError("--etcd-cert-file, --etcd-key-file and --etcd-trusted-ca-file need --etcd-listen")
        }
        if auditPolicyFile != nil && auditLogPath == nil { throw ValidationError("--audit-policy-file needs --audit-log-path") }
        do {
            _ = try ControllerSelection(parsing: controllers)
        } catch {
            throw ValidationError("--controllers: \(error)")
        }
        if case .failure(let error) = AuthorizationMode.parse(authorizationMode) {
            throw ValidationError("--authorization-mode: \(error)")
        }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level \(logLevel) is not a level") }
    }

    static func hostPort(_ text: String, flag: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(flag) must be ADDR:PORT, not \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func run() async throws {
        FileDescriptorLimit.raise()
        var logger = Logger(label: "skiff.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let (host, port) = try Self.hostPort(listen, flag: "--listen")
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let opened: OpenedStore
        do {
            var options = KineOptions()
            options.compactionInterval = compactionInterval.duration > .zero ? compactionInterval.duration : nil
            options.compactionPolicy = RetainOneInterval()
            opened = try await datastore.open(dataDir: dataDir, sqliteSubdirectory: "db", options: options, logger: logger)
        } catch {
            throw RuntimeError("cannot open the datastore in \(dataDir): \(error)")
        }
        let store = opened.store
        var configuration = APIServerBootstrap.Configuration(dataDirectory: dataDir, host: host, port: port)
        configuration.extraSANs = tlsSANs
        configuration.tokenAuthFile = tokenAuthFile
        configuration.serviceClusterIPRange = serviceClusterIPRange
        configuration.auditLogPath = auditLogPath
        configuration.auditPolicyFile = auditPolicyFile
        configuration.authorizationModes = (try? AuthorizationMode.parse(authorizationMode).get()) ?? [.node, .rbac]
        configuration.controllers = try ControllerSelection(parsing: controllers)
        configuration.httpLimits = httpLimits.limits
        let bootstrap: APIServerBootstrap
        do {
            bootstrap = try await APIServerBootstrap(configuration: configuration, store: KineObjectStore(kine: store), logger: logger)
        } catch {
            await opened.close()
            throw RuntimeError("cannot start: \(error)")
        }
        if opened.supervisor != nil { bootstrap.reportMetrics(opened.nodeMetrics) }
        var etcd: EtcdEndpoint? = nil
        if let etcdListen {
            let (etcdHost, etcdPort) = try Self.hostPort(etcdListen, flag: "--etcd-listen")
            var configuration = EtcdConfiguration(host: etcdHost, port: etcdPort)
            if let etcdCertFile, let etcdKeyFile, let etcdTrustedCAFile {
                configuration.tls = .init(certificateFile: etcdCertFile, keyFile: etcdKeyFile, trustedCAFile: etcdTrustedCAFile)
            }
            configuration.progressNotifyInterval = watchProgress.interval.duration
            etcd = try EtcdEndpoint(store: store, configuration: configuration, clusterName: "default", logger: logger,
                                    extraMetrics: opened.nodeMetrics)
        }
        let server = bootstrap.server
        do {
            var services: [ServiceRunner.Task] = [{ try await server.run() }]
            let identity = opened.controllerIdentity
            services.append { await bootstrap.runControllers(identity: identity) }
            services.append { await MemoryTrimmer.run() }
            var announcements: [ServiceRunner.Task] = [{
                let port = try await server.listeningPort()
                let kubeconfig = try await bootstrap.started(port: port)
                let line = "skiff server: serving the Kubernetes API on https://\(host):\(port) (data: \(dataDir)); admin kubeconfig: \(kubeconfig)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }]
            if let etcd {
                let etcdHost = try Self.hostPort(etcdListen ?? "", flag: "--etcd-listen").0
                services.append { try await etcd.run() }
                announcements.append {
                    let port = try await etcd.listeningPort()
                    let scheme = etcdTrustedCAFile == nil ? "http" : "https"
                    FileHandle.standardOutput.write(Data("skiff server: serving the etcd v3 API on \(scheme)://\(etcdHost):\(port)\n".utf8))
                }
            }
            try await ServiceRunner.run(services: services, announcements: announcements)
        } catch {
            await opened.close()
            throw RuntimeError("cannot serve on \(listen): \(error)")
        }
        await opened.close()
    }
}
