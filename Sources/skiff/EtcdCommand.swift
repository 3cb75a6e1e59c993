import ArgumentParser
import EtcdServer
import Foundation
import KineLayer
import Logging
import Storage

/// `skiff etcd`: only the etcd v3 endpoint, on Skiff's SQL storage, for an existing
/// kube-apiserver (`--etcd-servers`) or any etcd client. Flags are named as etcd's.
struct EtcdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etcd",
        abstract: "Serve the etcd v3 API (for etcdctl or kube-apiserver --etcd-servers) from SQLite or a dqlite cluster.")

    @Option(name: .customLong("data-dir"), help: "Where the database lives.")
    var dataDir: String = "default.etcd"

    @Option(name: .customLong("name"), help: "This member's name.")
    var name: String = "default"

    @Option(name: .customLong("listen-client-urls"), help: "The URL to serve clients on: http(s)://IP:PORT.")
    var listenClientURLs: String = "http://127.0.0.1:2379"

    @Option(name: .customLong("cert-file"), help: "The server certificate (PEM); with --key-file, serves TLS.")
    var certFile: String?

    @Option(name: .customLong("key-file"), help: "The server certificate's private key (PEM).")
    var keyFile: String?

    @Option(name: .customLong("trusted-ca-file"), help: "CA (PEM) that client certificates must be signed by.")
    var trustedCAFile: String?

    @Flag(name: .customLong("client-cert-auth"), help: "Require client certificates (signed by --trusted-ca-file).")
    var clientCertAuth = false

    @Option(name: .customLong("auto-compaction-mode"), help: "Only 'revision' is supported: keep the newest N revisions.")
    var autoCompactionMode: String = "revision"

    @Option(name: .customLong("auto-compaction-retention"), help: "Revisions to keep when compacting automatically; 0 turns it off.")
    var autoCompactionRetention: Int64 = 1000

    @Option(name: .customLong("max-request-bytes"), help: "The largest request accepted.")
    var maxRequestBytes: Int = 1_572_864

    @Option(name: .customLong("max-txn-ops"), help: "The most operations in one transaction.")
    var maxTxnOps: Int = 128

    @OptionGroup var watchProgress: WatchProgressOptions

    @OptionGroup var datastore: DatastoreOptions

    func validate() throws {
        if autoCompactionMode != "revision" {
            throw ValidationError("--auto-compaction-mode \(autoCompactionMode) is not supported; use revision")
        }
        if (certFile == nil) != (keyFile == nil) { throw ValidationError("--cert-file and --key-file go together") }
        if clientCertAuth && trustedCAFile == nil { throw ValidationError("--client-cert-auth needs --trusted-ca-file") }
        let urls = listenClientURLs.split(separator: ",")
        guard urls.count == 1 else { throw ValidationError("--listen-client-urls takes one URL in this version") }
        let parsed = try EtcdConfiguration.parseClientURL(String(urls[0]))
        if parsed.tls && certFile == nil { throw ValidationError("https:// listen URL needs --cert-file and --key-file") }
    }

    func run() async throws {
        FileDescriptorLimit.raise()
        var logger = Logger(label: "skiff.etcd")
        logger.logLevel = .info
        let url = try EtcdConfiguration.parseClientURL(listenClientURLs)
        var configuration = EtcdConfiguration(host: url.host, port: url.port)
        if let certFile, let keyFile {
            configuration.tls = .init(certificateFile: certFile, keyFile: keyFile, trustedCAFile: trustedCAFile)
        }
        if !EtcdConfiguration.isLoopback(url.host), configuration.tls?.trustedCAFile == nil {
            // etcd's own behaviour, kept for drop-in use, but said loudly.
            let warning = "skiff etcd: WARNING: serving \(listenClientURLs) without client certificates: anyone who can reach it can read and write every key (give --cert-file, --key-file, --trusted-ca-file and --client-cert-auth)\n"
            FileHandle.standardError.write(Data(warning.utf8))
        }
        configuration.name = name
        configuration.maxRequestBytes = maxRequestBytes
        configuration.maxTxnOps = maxTxnOps
        configuration.progressNotifyInterval = watchProgress.interval.duration
        let announced = "\(configuration.tls == nil ? "http" : "https")://\(configuration.host)"

        var options = KineOptions()
        if autoCompactionRetention > 0 {
            options.compactionPolicy = RetainRevisions(autoCompactionRetention)
            // etcd's revision mode compacts every 5 minutes; Skiff also compacts once a
            // hundred times the retention (at least 100,000 revisions) has piled up. That
            // keeps at least the newest N revisions as etcd does, leaves watchers far more
            // history than N, and bounds history at any write rate.
            let (budget, overflow) = autoCompactionRetention.multipliedReportingOverflow(by: 100)
            options.compactionRevisionBudget = overflow ? nil : max(budget, 100_000)
        } else {
            options.compactionInterval = nil
        }
        let opened: OpenedStore
        do {
            opened = try await datastore.open(dataDir: dataDir, sqliteSubdirectory: nil, options: options, logger: logger)
        } catch {
            throw RuntimeError("cannot open the datastore in \(dataDir): \(error)")
        }
        let store = opened.store
        let endpoint: EtcdEndpoint
        do {
            endpoint = try EtcdEndpoint(store: store, configuration: configuration, clusterName: name, logger: logger,
                                        extraMetrics: opened.nodeMetrics)
        } catch {
            await opened.close()
            throw error
        }
        do {
            try await ServiceRunner.run(services: [{ try await endpoint.run() }, { await MemoryTrimmer.run() }], announcements: [{
                let port = try await endpoint.listeningPort()
                let line = "skiff etcd: serving the etcd v3 API on \(announced):\(port) (data: \(dataDir))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }])
        } catch {
            await opened.close()
            throw ValidationError("cannot serve on \(listenClientURLs): \(error)")
        }
        await opened.close()
    }
}
