import ArgumentParser
import Cluster
import Foundation
import KineLayer
import Storage

/// `skiff-bench cluster`: write rate and p99 write latency of the key-value log on one-node
/// SQLite, one-node dqlite and three-node dqlite (sequential and concurrent, group commit
/// on), and the failover time over repeated kill -9 of the leader.
struct ClusterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Writes/s and p99 latency on SQLite vs dqlite (1 and 3 nodes); failover time over leader kills.")

    @Option(help: "The skiff binary (default: beside this one).")
    var skiff: String?

    @Option(help: "Writes in each sequential run.")
    var sequential = 1_000

    @Option(help: "Writes in each concurrent run.")
    var concurrentWrites = 10_000

    @Option(help: "Concurrent writer tasks.")
    var concurrency = 64

    @Option(help: "Leader kills to time.")
    var kills = 5

    @Option(help: "Callers of the closed-loop etcd load through every member (0: skip it).")
    var loadClients = 300

    @Option(help: "Seconds of the closed-loop etcd load.")
    var loadSeconds = 30.0

    func run() async throws {
        let binary = skiff ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skiff").path
        let root = NSTemporaryDirectory() + "skiff-bench-cluster-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        print("Key-value log writes (256-byte values, group commit on), client in this process")
        print(pad("setup", 34) + pad("run", 16) + pad("writes/s", 12) + "p99 ms")
        var rates: [String: Double] = [:]

        var options = KineOptions()
        options.compactionInterval = nil
        let sqlite = try await KineStore.open(directory: root + "/sqlite", options: options)
        rates["sqlite"] = try await measure(sqlite, label: "1 node, SQLite (sync=FULL)")
        await sqlite.close()

        let single = try BenchCluster(binary: binary, root: root + "/one", size: 1)
        rates["dqlite1"] = try await single.withStore(options) { try await measure($0, label: "1 node, dqlite") }
        single.stop()

        if loadClients > 0 { try await compareClosedLoop(binary: binary, root: root) }

        let three = try BenchCluster(binary: binary, root: root + "/three", size: 3)
        defer { three.stop() }
        rates["dqlite3"] = try await three.withStore(options) { try await measure($0, label: "3 nodes, dqlite") }
        print("")
        print(String(format: "ratio 3-node dqlite / 1-node SQLite, %d-concurrent: %.3f", concurrency, rates["dqlite3"]! / rates["sqlite"]!))
        print(String(format: "ratio 3-node dqlite / 1-node dqlite, %d-concurrent: %.3f", concurrency, rates["dqlite3"]! / rates["dqlite1"]!))
        print("")

        var failovers: [Double] = []
        try await three.withStore(options) { store in
            for round in 1...kills {
                failovers.append(try await three.killLeaderAndTime(store: store, round: round))
            }
        }
        failovers.sort()
        print(String(format: "failover (kill -9 of the leader to the next acknowledged write), %d kills: median %.3f s, max %.3f s",
                     kills, percentile(failovers, 0.5), failovers.last ?? .nan))
        print("  each: " + failovers.map { String(format: "%.3f", $0) }.joined(separator: " "))
    }

    /// `loadClients` callers writing etcd Puts (check perf's shape: new 256-byte keys, 1 KiB
    /// values) through every member of a 3-member etcd 3.4 cluster, then of a 3-member
    /// `skiff etcd` cluster on dqlite, one after the other on fresh data: writes/s, p99,
    /// errors, and disk and memory per member (a Skiff member's memory counts its node process).
    private func compareClosedLoop(binary: String, root: String) async throws {
        print("Closed-loop etcd Puts, \(loadClients) callers through all 3 members, \(Int(loadSeconds)) s each (256-byte keys, 1 KiB values)")
        print(pad("cluster", 22) + pad("writes/s", 10) + pad("p99 ms", 10) + pad("errors", 8) + "disk MiB / RSS MiB per member")
        let load = PutLoadGenerator(clients: loadClients, connections: 30, seconds: loadSeconds)

        let etcd = try EtcdTriple(root: root + "/etcd3")
        let etcdResult = try await load.run(ports: etcd.members.map(\.port))
        let etcdSizes = etcd.members.map { (disk: $0.diskMiB, memory: $0.residentMiB) }
        etcd.stop()
        report("etcd 3.4, 3 members", etcdResult, etcdSizes)

        let skiff = try BenchCluster(binary: binary, root: root + "/closed-loop", size: 3)
        let skiffResult = try await load.run(ports: skiff.members.map(\.process.port))
        let skiffSizes = skiff.members.map { (disk: $0.process.diskMiB, memory: $0.process.residentMiBWithChildren) }
        skiff.stop()
        report("skiff etcd, 3 members", skiffResult, skiffSizes)

        let largest = { (sizes: [(disk: Double, memory: Double)], part: KeyPath<(disk: Double, memory: Double), Double>) in
            max(sizes.map { $0[keyPath: part] }.max() ?? 0, 0.001)
        }
        print(String(format: "ratio skiff/etcd: writes/s %.3f, p99 %.3f, largest disk %.3f, largest RSS %.3f",
                     skiffResult.rate / etcdResult.rate, skiffResult.p99 / etcdResult.p99,
                     largest(skiffSizes, \.disk) / largest(etcdSizes, \.disk), largest(skiffSizes, \.memory) / largest(etcdSizes, \.memory)))
        if let failure = skiffResult.firstFailure { print("  skiff's first error: \(failure)") }
        if let failure = etcdResult.firstFailure { print("  etcd's first error: \(failure)") }
        print("")
    }

    private func report(_ label: String, _ result: PutLoadGenerator.Result, _ sizes: [(disk: Double, memory: Double)]) {
        print(pad(label, 22) + pad(String(format: "%.0f", result.rate), 10) + pad(String(format: "%.1f", result.p99), 10)
              + pad("\(result.failures)", 8) + sizes.map { String(format: "%.0f / %.0f", $0.disk, $0.memory) }.joined(separator: ", "))
    }

    /// Sequential and concurrent writes; prints both and returns the concurrent rate.
    private func measure(_ store: KineStore, label: String) async throws -> Double {
        let seq = try await writes(store, prefix: "seq", total: sequential, tasks: 1)
        print(pad(label, 34) + pad("sequential", 16) + pad(String(format: "%.0f", seq.rate), 12) + String(format: "%.2f", seq.p99))
        let conc = try await writes(store, prefix: "conc", total: concurrentWrites, tasks: concurrency)
        print(pad(label, 34) + pad("\(concurrency)-concurrent", 16) + pad(String(format: "%.0f", conc.rate), 12) + String(format: "%.2f", conc.p99))
        return conc.rate
    }

    private func writes(_ store: KineStore, prefix: String, total: Int, tasks: Int) async throws -> (rate: Double, p99: Double) {
        let value = [UInt8](repeating: 0x61, count: 256)
        let perTask = max(1, total / tasks)
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var samples: [Double] = []
                    samples.reserveCapacity(perTask)
                    for i in 0..<perTask {
                        let begun = ContinuousClock.now
                        try await store.put(Array("/bench/\(prefix)/\(t)/\(i)".utf8), value: value)
                        samples.append((ContinuousClock.now - begun).seconds * 1000)
                    }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        let elapsed = (ContinuousClock.now - start).seconds
        return (Double(latencies.count) / elapsed, percentile(latencies, 0.99))
    }
}

/// Members of a benchmark cluster: `skiff etcd --datastore dqlite` processes on loopback.
final class BenchCluster {
    let binary: String
    let root: String
    private(set) var members: [(process: ServerProcess, arguments: [String], clusterAddress: String)] = []

    init(binary: String, root: String, size: Int) throws {
        self.binary = binary
        self.root = root
        var token: String?
        for i in 1...size {
            let etcdPort = ServerProcess.freePort(), clusterPort = ServerProcess.freePort()
            let dataDir = root + "/node\(i)"
            // A restart needs no --join/--token: the member already belongs to the cluster.
            let arguments = ["etcd", "--data-dir", dataDir, "--listen-client-urls", "http://127.0.0.1:\(etcdPort)",
                             "--datastore", "dqlite", "--cluster-listen", "127.0.0.1:\(clusterPort)"]
            let join = token.flatMap { t in members.first.map { ["--join", $0.clusterAddress, "--token", t] } } ?? []
            let process = try ServerProcess(name: "member\(i)", executable: binary, arguments: arguments + join, port: etcdPort, dataDir: dataDir)
            members.append((process, arguments, "127.0.0.1:\(clusterPort)"))
            if token == nil { token = try ClusterAdmin(dataDirectory: dataDir).token().description }
        }
        if size > 1 { try waitForVoters(size) }
    }

    /// Runs `body` with a store in this process on the cluster's database.
    func withStore<T>(_ options: KineOptions, _ body: (KineStore) async throws -> T) async throws -> T {
        let paths = ClusterPaths(dataDirectory: root + "/node1")
        let identity = try ClusterIdentity.load(paths)!
        var options = options
        options.peerPollInterval = .milliseconds(15)
        let store = try await KineStore(database: try ClusterDatastore.open(paths: paths, identity: identity), options: options)
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }

    /// Kills the leader's process while a writer writes, returns the seconds from the kill
    /// to the next acknowledged write, then restarts the member and waits until all vote.
    func killLeaderAndTime(store: KineStore, round: Int) async throws -> Double {
        let admin = try ClusterAdmin(dataDirectory: root + "/node1")
        var status: [ClusterMemberStatus] = []
        for _ in 0..<20 where !status.contains(where: \.leader) {
            status = (try? await admin.status()) ?? []
            if !status.contains(where: \.leader) { try await Task.sleep(for: .milliseconds(250)) }
        }
        guard let leader = status.first(where: \.leader),
              let index = members.firstIndex(where: { $0.clusterAddress == leader.address }) else {
            throw BenchmarkError("no leader")
        }
        // Each acknowledged write with the time it was sent: a write sent before the kill and
        // answered after it (its commit was already on its way) says nothing of the failover.
        let writer = Task {
            var acknowledged: [(sent: ContinuousClock.Instant, answered: ContinuousClock.Instant)] = []
            var n = 0
            while !Task.isCancelled {
                n += 1
                let sent = ContinuousClock.now
                if (try? await store.put(Array("/failover/\(round)/\(n)".utf8), value: [0x61])) != nil {
                    acknowledged.append((sent, .now))
                }
            }
            return acknowledged
        }
        try await Task.sleep(for: .seconds(1))
        let killedAt = ContinuousClock.now
        members[index].process.kill9()
        try await Task.sleep(for: .seconds(4))
        writer.cancel()
        let acknowledged = await writer.value
        guard let first = acknowledged.first(where: { $0.sent > killedAt })?.answered else {
            throw BenchmarkError("no write sent after the kill succeeded")
        }
        let member = members[index]
        let port = Int(member.arguments[member.arguments.firstIndex(of: "--listen-client-urls")! + 1].split(separator: ":").last!)!
        let restarted = try ServerProcess(name: "member\(index + 1)-\(round)", executable: binary, arguments: member.arguments,
                                          port: port, dataDir: root + "/node\(index + 1)")
        members[index].process = restarted
        try waitForVoters(members.count)
        return (first - killedAt).seconds
    }

    private func waitForVoters(_ count: Int) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let status = try? runProgram(binary, ["cluster", "status", "--data-dir", root + "/node1", "-o", "json"])
            if let status, let list = try? JSONSerialization.jsonObject(with: Data(status.utf8)) as? [[String: Any]],
               list.filter({ $0["role"] as? String == "voter" && $0["healthy"] as? Bool == true }).count == min(count, 3) {
                return
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        throw BenchmarkError("the cluster did not get \(min(count, 3)) healthy voters within 60 s")
    }

    func stop() {
        for m in members { m.process.stop() }
    }
}

/// Three Debian etcd (3.4) members on loopback: the peer Skiff is compared with.
final class EtcdTriple {
    private(set) var members: [ServerProcess] = []

    init(root: String) throws {
        let ports = (0..<3).map { _ in (client: ServerProcess.freePort(), peer: ServerProcess.freePort()) }
        let cluster = ports.enumerated().map { "m\($0.offset)=http://127.0.0.1:\($0.element.peer)" }.joined(separator: ",")
        let etcd = try which("etcd")
        // The members must start together (each waits for the others to form the cluster),
        // so they are launched first and waited for afterwards.
        var launched: [Process] = []
        for (i, p) in ports.enumerated() {
            let dir = root + "/m\(i)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            launched.append(try ServerProcess.launch(name: "etcd-m\(i)", executable: etcd, arguments: [
                "--name", "m\(i)", "--data-dir", dir,
                "--listen-client-urls", "http://127.0.0.1:\(p.client)", "--advertise-client-urls", "http://127.0.0.1:\(p.client)",
                "--listen-peer-urls", "http://127.0.0.1:\(p.peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(p.peer)",
                "--initial-cluster", cluster, "--initial-cluster-state", "new", "--quota-backend-bytes", "8589934592",
            ]))
        }
        do {
            for (i, p) in ports.enumerated() {
                members.append(try ServerProcess(adopting: launched[i], name: "etcd-m\(i)", port: p.client, dataDir: root + "/m\(i)"))
            }
            // Listening is not serving: wait until the members have elected a leader.
            let endpoints = ports.map { "127.0.0.1:\($0.client)" }.joined(separator: ",")
            let deadline = Date().addingTimeInterval(30)
            let etcdctl = try which("etcdctl")
            while (try? programStatus(etcdctl, ["--endpoints=" + endpoints, "endpoint", "health"])) != 0 {
                guard Date() < deadline else { throw BenchmarkError("the etcd cluster did not become healthy within 30 s") }
                Thread.sleep(forTimeInterval: 0.2)
            }
        } catch {
            for process in launched where process.isRunning { process.terminate() }
            throw error
        }
    }

    func stop() {
        for member in members { member.stop() }
    }
}
