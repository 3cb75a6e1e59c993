import ArgumentParser
import Foundation

/// Skiff's etcd endpoint beside Debian's etcd, in one run, measured with the same real
/// clients: `etcdctl check perf` for write throughput, and watch latency (write to event)
/// for many watchers (see ``WatchLatencyProbe``).
struct EtcdBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etcd",
        abstract: "Throughput and watch latency of `skiff etcd` vs Debian's etcd, with ratios.")

    @Option(help: "etcdctl check perf load (s, m, l, xl); 'none' skips it.")
    var checkPerf: String = "l"

    @Option(help: "Watchers in the latency run.")
    var watchers: Int = 100

    @Option(help: "Writes per second in the latency run.")
    var watchRate: Int = 1000

    @Option(help: "Seconds of the latency run.")
    var watchSeconds: Int = 10

    @Option(help: "Watches per etcdctl process in the latency run (each process holds its watches on one stream).")
    var watchesPerProcess: Int = 25

    @Option(help: "A directory to write each server's watch samples to (NAME-watch.tsv: arrival s, latency ms).")
    var samplesDir: String?

    @Option(help: "Which servers to measure, comma-separated.")
    var servers: String = "etcd,skiff"

    struct Figures {
        var checkPerf: String = "-"
        var checkPerfRate: Double = .nan
        /// Server CPU per write during check perf, in microseconds.
        var cpuPerWrite: Double = .nan
        var watch: WatchLatencyProbe.Result?
        var rss: Double = 0
    }

    func run() throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let skiff = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("skiff").path
        let etcd = try which("etcd")
        let writer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/bench/paced_writer.py").standardized.path
        print("etcd v3 endpoint benchmark: Debian etcd vs skiff etcd (SQLite, synchronous=FULL), both on loopback, one at a time")
        print("")

        var results: [String: Figures] = [:]
        for name in servers.split(separator: ",").map(String.init) {
            let port = ServerProcess.freePort()
            let dir = NSTemporaryDirectory() + "bench-\(name)-" + UUID().uuidString
            let server: ServerProcess
            if name == "etcd" {
                let peer = ServerProcess.freePort()
                server = try ServerProcess(name: name, executable: etcd, arguments: [
                    "--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:\(port)",
                    "--advertise-client-urls", "http://127.0.0.1:\(port)", "--listen-peer-urls", "http://127.0.0.1:\(peer)",
                    "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)", "--initial-cluster", "default=http://127.0.0.1:\(peer)",
                    "--quota-backend-bytes", "8589934592",
                ], port: port, dataDir: dir)
            } else {
                server = try ServerProcess(name: name, executable: skiff, arguments: [
                    "etcd", "--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:\(port)",
                ], port: port, dataDir: dir)
            }
            defer { server.stop() }
            var f = Figures()
            if checkPerf != "none" {
                let cpuBefore = server.cpuSeconds
                (f.checkPerf, f.checkPerfRate) = try runCheckPerf(port: port)
                // check perf writes for 60 s at every load and reports writes per second of
                // that; CPU used while it starts and reports is counted too (both servers alike).
                let writes = f.checkPerfRate * 60
                f.cpuPerWrite = (server.cpuSeconds - cpuBefore) / writes * 1_000_000
                print("\(name): check perf --load=\(checkPerf): \(f.checkPerf); server CPU per write \(String(format: "%.0f", f.cpuPerWrite)) µs")
            }
            f.watch = try WatchLatencyProbe(watchers: watchers, rate: watchRate, seconds: watchSeconds, watchesPerProcess: watchesPerProcess,
                                        samplesFile: samplesDir.map { "\($0)/\(name)-watch.tsv" }).run(port: port, writerScript: writer)
            print(String(format: "%@: watch latency, %d watchers at %d writes/s: p50 %.2f ms, p99 %.2f ms (%d of %d events)",
                         name, watchers, watchRate, f.watch!.p50, f.watch!.p99, f.watch!.samples, f.watch!.expected))
            f.rss = server.residentMiB
            results[name] = f
        }

        guard let e = results["etcd"], let s = results["skiff"] else { return }
        print("")
        print("summary                                     etcd        skiff       ratio skiff/etcd")
        if checkPerf != "none" {
            print(String(format: "check perf --load=%@ writes/s            %-11.0f %-11.0f %.2f", checkPerf, e.checkPerfRate, s.checkPerfRate, s.checkPerfRate / e.checkPerfRate))
            print(String(format: "server CPU per write, µs                  %-11.0f %-11.0f %.2f", e.cpuPerWrite, s.cpuPerWrite, s.cpuPerWrite / e.cpuPerWrite))
        }
        print(String(format: "watch p99 ms (%d watchers, %d w/s)      %-11.2f %-11.2f %.2f", watchers, watchRate, e.watch!.p99, s.watch!.p99, s.watch!.p99 / e.watch!.p99))
        print(String(format: "server RSS MiB after the runs             %-11.1f %-11.1f %.2f", e.rss, s.rss, s.rss / e.rss))
        print("targets: write throughput ratio >= 1.0, watch p99 ratio <= 2.0")
    }

    /// Runs `etcdctl check perf` and returns its verdict lines and its throughput.
    private func runCheckPerf(port: Int) throws -> (String, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try which("etcdctl"))
        process.arguments = ["--endpoints=http://127.0.0.1:\(port)", "check", "perf", "--load=\(checkPerf)"]
        process.environment = ["ETCDCTL_API": "3", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r", with: "\n").split(separator: "\n")
        let verdicts = lines.filter { $0.hasPrefix("PASS") || $0.hasPrefix("FAIL") }
        var rate = Double.nan
        if let line = verdicts.first(where: { $0.contains("Throughput") }),
           let n = line.split(separator: " ").first(where: { Double($0) != nil }) {
            rate = Double(n) ?? .nan
        }
        return (verdicts.joined(separator: "; "), rate)
    }
}
