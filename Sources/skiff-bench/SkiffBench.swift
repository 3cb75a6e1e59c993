import ArgumentParser

/// Benchmarks of Skiff's layers, run as programs (never as timed tests): each prints its
/// figures and the ratios against the baseline measured in the same run.
@main
struct SkiffBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skiff-bench",
        abstract: "Benchmarks of Skiff: storage layers, the etcd endpoint, the Kubernetes API.",
        subcommands: [KineBenchmark.self, EtcdBenchmark.self, APIBenchmark.self, ClusterBenchmark.self, LoadCommand.self, CrashWriter.self])
}
