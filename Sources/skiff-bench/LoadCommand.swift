import ArgumentParser
import Foundation

/// `skiff-bench load`: the closed-loop Put load of `skiff-bench etcd` and `skiff-bench
/// cluster`, pointed at etcd endpoints that are already running (on 127.0.0.1), so that a
/// cluster can be profiled or soaked while it is under the same load the benchmarks use.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Put the closed-loop etcd write load on running endpoints and print writes/s, p50, p99 and errors.")

    @Option(help: "Ports of the etcd endpoints on 127.0.0.1, comma-separated; connections go to them in turn.")
    var ports: String

    @Option(help: "Callers, each sending its next Put as soon as its last one is answered.")
    var clients = 300

    @Option(help: "HTTP/2 connections the callers share.")
    var connections = 30

    @Option(help: "Seconds of load.")
    var seconds = 20.0

    @Option(help: "Distinct keys to write (0: a new key each time).")
    var keys: UInt64 = 0

    func validate() throws {
        guard !portList.isEmpty else { throw ValidationError("--ports needs at least one port") }
        guard clients > 0, connections > 0, seconds > 0 else { throw ValidationError("--clients, --connections and --seconds must be positive") }
    }

    private var portList: [Int] {
        ports.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { (1...65535).contains($0) }
    }

    func run() async throws {
        let load = PutLoadGenerator(clients: clients, connections: connections, seconds: seconds, keys: keys == 0 ? nil : keys)
        let result = try await load.run(ports: portList)
        print(String(format: "writes %d, writes/s %.0f, p50 %.2f ms, p99 %.2f ms, errors %d",
                     result.writes, result.rate, result.p50, result.p99, result.failures))
        if let failure = result.firstFailure { print("first error: \(failure)") }
    }
}
