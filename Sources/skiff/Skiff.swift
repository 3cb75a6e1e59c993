import APIServer
import ArgumentParser

/// The `skiff` command: a Kubernetes-compatible API server on SQL.
@main
struct Skiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skiff",
        abstract: "A Kubernetes-compatible API server that keeps its state in SQL (SQLite, or replicated SQLite on dqlite).",
        discussion: "The Kubernetes API server and cluster commands arrive as they are built; see README.md.",
        version: SkiffVersion.skiff,
        subcommands: [ServerCommand.self, KubeconfigCommand.self, EtcdCommand.self, ClusterCommand.self, VersionCommand.self, DqliteNodeCommand.self])
}
