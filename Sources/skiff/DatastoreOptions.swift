import ArgumentParser
import Cluster
import Foundation
import KineLayer
import Logging
import Storage

/// Where `skiff server` and `skiff etcd` keep their data: the embedded SQLite file, or a
/// replicated dqlite cluster this node bootstraps or joins.
struct DatastoreOptions: ParsableArguments {
    @Option(name: .customLong("datastore"), help: "sqlite (one node) or dqlite (a replicated cluster; --join implies it).")
    var datastore: String?

    @Option(name: .customLong("cluster-listen"), help: "This node's cluster (dqlite) address, IPv4:PORT; default \(ClusterSetup.defaultListen).")
    var clusterListen: String?

    @Option(name: .customLong("join"), help: "Join the cluster through the member at IP:PORT (its --cluster-listen).")
    var join: String?

    @Option(name: .customLong("token"), help: "The cluster token for --join, as `skiff cluster token` prints it.")
    var token: String?

    /// 50 ms: Raft's heartbeat every 75 ms, elections after 0.75-1.5 s of silence (etcd's
    /// default election timeout is 1 s). dqlite replicates each commit's pages, so a large
    /// transaction is a large Raft entry; with 20 ms a 100 MB entry (one DeleteRange of
    /// 120,000 keys) outlasted the 300 ms election timeout again and again.
    @Option(name: .customLong("dqlite-latency-ms"), help: "Expected network round trip between nodes; sets Raft heartbeat (1.5x) and election (15x) timeouts.")
    var latencyMilliseconds: UInt32 = Self.defaultLatencyMilliseconds
    static let defaultLatencyMilliseconds: UInt32 = 50

    @Option(name: .customLong("sqlite-synchronous"), help: "SQLite durability: full (survives power loss), normal, off.")
    var synchronous: String = "full"

    var usesDqlite: Bool { datastore == "dqlite" || join != nil || clusterListen != nil }

    func validate() throws {
        if let datastore, datastore != "sqlite", datastore != "dqlite" {
            throw ValidationError("--datastore must be sqlite or dqlite")
        }
        if datastore == "sqlite" && (join != nil || clusterListen != nil) {
            throw ValidationError("--join and --cluster-listen need --datastore dqlite")
        }
        if join != nil && token == nil { throw ValidationError("--join needs --token (print it with `skiff cluster token --data-dir DIR` on a member)") }
        if let clusterListen, !IPv4Address.isValid(clusterListen) {
            throw ValidationError(ClusterError.invalidAddress(clusterListen).description)
        }
        if SQLiteConfiguration.Synchronous(rawValue: synchronous.uppercased()) == nil {
            throw ValidationError("--sqlite-synchronous must be full, normal or off")
        }
    }

    /// Opens the log: SQLite in `dataDir/sqliteSubdirectory`, or the cluster's database
    /// after starting (and if needed bootstrapping or joining) this node's dqlite process.
    func open(dataDir: String, sqliteSubdirectory: String?, options: KineOptions, logger: Logger) async throws -> OpenedStore {
        guard usesDqlite else {
            let directory = sqliteSubdirectory.map { dataDir + "/" + $0 } ?? dataDir
            let store = try await KineStore.open(directory: directory,
                                                 synchronous: SQLiteConfiguration.Synchronous(rawValue: synchronous.uppercased())!,
                                                 options: options, logger: logger)
            return OpenedStore(store: store, supervisor: nil, lock: nil, hints: nil,
                               controllerIdentity: "\(ProcessInfo.processInfo.hostName)-sqlite")
        }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let lock = try DirectoryLock(path: dataDir + "/skiff.lock")
        let paths = ClusterPaths(dataDirectory: dataDir)
        let identity = try await ClusterSetup.prepare(paths: paths, listen: clusterListen, join: join, token: token, logger: logger)
        let supervisor = NodeSupervisor(executable: Self.executablePath,
                                        arguments: ["dqlite-node", "--data-dir", dataDir, "--latency-ms", String(latencyMilliseconds)],
                                        logger: logger)
        try await supervisor.start()
        var clusterOptions = options
        // Other members' commits: hinted at once, and polled for in case a hint is lost.
        clusterOptions.peerPollInterval = .milliseconds(15)
        var hints: PeerHints?
        do {
            // Without the UDP port (taken, or refused), the member still serves: other
            // members' writes then reach its watches by the poll alone.
            do {
                hints = try await PeerHints.start(paths: paths, identity: identity, logger: logger)
            } catch {
                logger.warning("commit hints are off: cannot listen for them; other members' writes reach watches by polling",
                               metadata: ["address": "\(identity.address)/udp", "error": "\(error)"])
            }
            clusterOptions.peerSignal = hints.map { ClusterChangeSignal(hints: $0) }
            let store = try await KineStore(database: try ClusterDatastore.open(paths: paths, identity: identity),
                                            options: clusterOptions, logger: logger)
            return OpenedStore(store: store, supervisor: supervisor, lock: lock, hints: hints,
                               controllerIdentity: "\(ProcessInfo.processInfo.hostName)-node-\(identity.id)")
        } catch {
            await hints?.close()
            await supervisor.stop()
            throw error
        }
    }

    /// This executable, run again as the node process.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// A store and what keeps it alive: the node process and the data directory lock.
struct OpenedStore {
    let store: KineStore
    let supervisor: NodeSupervisor?
    let lock: DirectoryLock?
    /// The commit hints between cluster members.
    let hints: PeerHints?
    /// Who this server is in leader elections: stable across restarts of this data directory.
    let controllerIdentity: String

    /// The node process's figures for a `/metrics` (nothing on SQLite), made at each scrape.
    var nodeMetrics: @Sendable () -> String {
        let supervisor = self.supervisor
        return { supervisor.map(NodeProcessMetrics.render) ?? "" }
    }

    /// Closes the store, then stops the node process (which hands its role over).
    func close() async {
        await store.close()
        await hints?.close()
        await supervisor?.stop()
        lock?.release()
    }
}
