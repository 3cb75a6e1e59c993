import ArgumentParser
import Cluster
import Logging

/// `skiff dqlite-node` (hidden): the node process a server starts for its dqlite node.
struct DqliteNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dqlite-node",
        abstract: "Run this data directory's dqlite node (started by skiff server/etcd; not for direct use).",
        shouldDisplay: false)

    @Option(name: .customLong("data-dir")) var dataDir: String
    @Option(name: .customLong("latency-ms")) var latencyMilliseconds: UInt32 = DatastoreOptions.defaultLatencyMilliseconds

    func run() async throws {
        var logger = Logger(label: "skiff.dqlite-node")
        logger.logLevel = .info
        do {
            // libdqlite and raft free a big transaction's copies (its pages, frames, entry)
            // once it is applied; the trimmer gives that memory back to the system.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await MemoryTrimmer.run() }
                try await NodeHost.run(paths: ClusterPaths(dataDirectory: dataDir), latencyMilliseconds: latencyMilliseconds,
                                       logger: logger) { await ShutdownSignal.wait() }
                group.cancelAll()
            }
        } catch {
            throw RuntimeError("dqlite node: \(error)")
        }
    }
}
