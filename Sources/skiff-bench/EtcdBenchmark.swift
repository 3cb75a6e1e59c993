import ArgumentParser
import Foundation

/// Skiff's etcd endpoint beside Debian's etcd, in one run, measured with the same real
/// clients: `etcdctl check perf` for write throughput at its paced load, a closed-loop load of
/// many callers for the throughput each server reaches unpaced (see ``PutLoadGenerator``), and
/// watch latency (write to event) for many watchers (see ``WatchLatencyProbe``).
struct EtcdBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etcd",
        abstract: "Throughput and watch latency of `skiff etcd` vs Debian's etcd, with ratios.")

    @Option(help: "etcdctl check perf load (s, m, l, xl); 'none' skips it.")
    var checkPerf: String = "l"

    @Option(help: "Callers of the closed-loop Put load (each sends its next Put when the last is answered); 0 skips it.")
    var loadClients: Int = 300

    @Option(help: "HTTP/2 connections the closed-loop load's callers share (by default one per caller, as check perf's clients).")
    var loadConnections: Int?

    @Option(help: "Seconds of the closed-loop load.")
    var loadSeconds: Double = 20

    @Option(help: "Distinct keys the closed-loop load writes, so that most Puts update a key (by default each Put writes a new key).")
    var loadKeys: UInt64?

    @Option(help: "Watchers in the latency run.")
    var watchers: Int = 100

    @Option(help: "Writes per second in the latency run.")
    var watchRate: Int = 1000

    @Option(help: "Seconds of the latency run.")
    var watchSeconds: Int = 10

    @Option(help: "Watches per etcdctl process in the latency run (each process holds its watches on one stream).")
    var watchesPerProcess: Int = 25

    @Option(help: "A directory to write each server's watch samples to (NAME-ROUND-watch.tsv: arrival s, latency ms).")
    var samplesDir: String?

    @Option(help: "Rounds: each measures every server once, in alternating order; the summary gives the means.")
    var rounds: Int = 2

    @Option(name: .customLong("skiff-arg"), parsing: .unconditionalSingleValue,
            help: "An argument added to `skiff etcd`'s command line, to measure a variant (repeatable; e.g. --skiff-arg=--sqlite-synchronous=normal).")
    var skiffArguments: [String] = []

    @Option(help: "Which servers to measure, comma-separated.")
    var servers: String = "etcd,skiff"

    struct Figures {
        var checkPerf: String = "-"
        var checkPerfRate: Double = .nan
        /// Server CPU per write during check perf, in microseconds.
        var cpuPerWrite: Double = .nan
        var load: PutLoadGenerator.Result?
        /// Server CPU per write during the closed-loop load, in microseconds.
        var loadCPUPerWrite: Double = .nan
        var watch: WatchLatencyProbe.Result?
        var rss: Double = 0
    }

    func run() async throws {
        print("etcd v3 endpoint benchmark: Debian etcd vs skiff etcd (SQLite, synchronous=FULL), both on loopback, one at a time")
        if !skiffArguments.isEmpty { print("skiff etcd runs with: " + skiffArguments.joined(separator: " ")) }
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let skiff = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("skiff").path
        let writer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/bench/paced_writer.py").standardized.path
        let names = servers.split(separator: ",").map(String.init)
        var results: [String: [Figures]] = [:]
        for round in 1...max(1, rounds) {
            print("")
            if rounds > 1 { print("round \(round) of \(rounds)") }
            // Every other round goes in the other order, so that neither server always runs
            // on the machine the other has just warmed (page cache, CPU frequency).
            for name in round % 2 == 1 ? names : names.reversed() {
                results[name, default: []].append(try await measure(name, round: round, skiff: skiff, writer: writer))
            }
        }
        guard let e = results["etcd"], let s = results["skiff"] else { return }
        func mean(_ runs: [Figures], _ value: (Figures) -> Double) -> Double {
            runs.map(value).reduce(0, +) / Double(runs.count)
        }
        func row(_ label: String, _ value: (Figures) -> Double, decimals: Int = 0) {
            let (a, b) = (mean(e, value), mean(s, value))
            print(label.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: "%-11.*f %-11.*f %.2f", decimals, a, decimals, b, b / a))
        }
        print("")
        print((rounds > 1 ? "summary: means of \(rounds) rounds" : "summary").padding(toLength: 44, withPad: " ", startingAt: 0)
              + "etcd        skiff       ratio skiff/etcd")
        if checkPerf != "none" {
            row("check perf --load=\(checkPerf) writes/s", \.checkPerfRate)
            row("server CPU per write, µs", \.cpuPerWrite)
            if rounds > 1 {
                let ratios = zip(e, s).map { String(format: "%.2f", $1.checkPerfRate / $0.checkPerfRate) }
                print("check perf writes/s ratio in each round: " + ratios.joined(separator: ", "))
            }
        }
        if loadClients > 0 {
            row("closed-loop Put load writes/s (\(loadClients) callers)", { $0.load?.rate ?? .nan })
            row("server CPU per write under it, µs", \.loadCPUPerWrite)
        }
        row("watch p99 ms (\(watchers) watchers, \(watchRate) w/s)", { $0.watch?.p99 ?? .nan }, decimals: 2)
        row("server RSS MiB after the runs", \.rss, decimals: 1)
        print("targets: write throughput ratio >= 1.0, watch p99 ratio <= 2.0")
    }

    /// Starts one server on a fresh data directory, measures it, and stops it. `skiff` is the
    /// skiff executable, `writer` the watch probe's paced writer script.
    private func measure(_ name: String, round: Int, skiff: String, writer: String) async throws -> Figures {
        let port = ServerProcess.freePort()
        let dir = NSTemporaryDirectory() + "bench-\(name)-" + UUID().uuidString
        let server: ServerProcess
        if name == "etcd" {
            let peer = ServerProcess.freePort()
            server = try ServerProcess(name: name, executable: try which("etcd"), arguments: [
                "--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:\(port)",
                "--advertise-client-urls", "http://127.0.0.1:\(port)", "--listen-peer-urls", "http://127.0.0.1:\(peer)",
                "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)", "--initial-cluster", "default=http://127.0.0.1:\(peer)",
                "--quota-backend-bytes", "8589934592",
            ], port: port, dataDir: dir)
        } else {
            server = try ServerProcess(name: name, executable: skiff, arguments: [
                "etcd", "--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:\(port)",
            ] + skiffArguments, port: port, dataDir: dir)
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
        if loadClients > 0 {
            let cpuBefore = server.cpuSeconds
            let load = try await PutLoadGenerator(clients: loadClients, connections: loadConnections ?? loadClients,
                                                  seconds: loadSeconds, keys: loadKeys).run(port: port)
            f.load = load
            f.loadCPUPerWrite = (server.cpuSeconds - cpuBefore) / Double(max(load.writes, 1)) * 1_000_000
            print(String(format: "%@: closed-loop Put load, %d callers on %d connections: %.0f writes/s, p50 %.2f ms, p99 %.2f ms, %d failed%@; server CPU per write %.0f µs",
                         name, loadClients, loadConnections ?? loadClients, load.rate, load.p50, load.p99, load.failures,
                         load.firstFailure.map { " (first: \($0))" } ?? "", f.loadCPUPerWrite))
        }
        let watch = try WatchLatencyProbe(watchers: watchers, rate: watchRate, seconds: watchSeconds, watchesPerProcess: watchesPerProcess,
                                          samplesFile: samplesDir.map { "\($0)/\(name)-\(round)-watch.tsv" }).run(port: port, writerScript: writer)
        f.watch = watch
        print(String(format: "%@: watch latency, %d watchers at %d writes/s: p50 %.2f ms, p99 %.2f ms (%d of %d events)",
                     name, watchers, watchRate, watch.p50, watch.p99, watch.samples, watch.expected))
        f.rss = server.residentMiB
        return f
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
