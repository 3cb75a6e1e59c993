import ArgumentParser
import Foundation

/// `skiff-bench api`: the Kubernetes API as real clients use it, against Skiff and, when
/// given, a peer API server measured in the same run (`--peer-kubeconfig`: a kube-apiserver
/// with etcd, say). Requests authenticate with a bound service account token whose account
/// holds a namespaced Role (the default), or with a static admin token. Figures: CREATE and
/// GET rates (h2load, HTTP/2), LIST of every object (JSON, gzip, paged), PATCH round trips
/// while watchers follow the namespace and their events' delay, a watch-heavy churn with
/// Python's client, and resident memory idle and loaded. Each ratio says how Skiff does
/// against the peer, oriented so that above 1 is better.
struct APIBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "The Kubernetes API under real clients' load (service account token + RBAC by default), beside a peer API server.")

    @Option(help: "The skiff binary (default: beside this one).")
    var skiff: String?

    @Option(help: "A kubeconfig with admin rights on a peer API server to measure in the same run.")
    var peerKubeconfig: String?

    @Option(help: "Comma-separated process ids whose resident memory is the peer's (kube-apiserver,etcd).")
    var peerPids: String?

    @Option(help: "How load requests authenticate: serviceaccount (a bound token, namespaced Role) or static (an admin token).")
    var auth: AuthMode = .serviceaccount

    @Option(help: "With --auth static: the peer's admin bearer token.")
    var peerToken: String?

    @Option(help: "ConfigMaps to create (the LISTs read them all).")
    var objects = 10_000

    @Option(help: "GET requests to send.")
    var gets = 20_000

    @Option(help: "h2load clients (connections).")
    var clients = 10

    @Option(help: "Concurrent streams per client.")
    var streams = 10

    @Option(help: "Watchers of the namespace while ConfigMaps are patched.")
    var watchers = 100

    @Option(help: "Patches per second while they watch.")
    var updateRate = 200

    @Option(help: "Seconds of patching.")
    var updateSeconds = 10

    @Option(help: "Page size of the paged LIST.")
    var pageSize = 500

    @Option(help: "Seconds of the churn with Python's client (0: none).")
    var churnSeconds = 30

    @Option(help: "Writes per second of the paced churn run after the closed-loop one (0: none): both servers at the same event load.")
    var churnRate = 300

    enum AuthMode: String, ExpressibleByArgument { case serviceaccount, `static` }

    func run() throws {
        let binary = skiff ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skiff").path
        let work = NSTemporaryDirectory() + "skiff-bench-api-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let adminToken = UUID().uuidString
        try "\(adminToken),bench-admin,1,system:masters\n".write(toFile: work + "/tokens.csv", atomically: true, encoding: .utf8)
        let port = ServerProcess.freePort()
        let server = try ServerProcess(name: "skiff-server", executable: binary,
                                       arguments: ["server", "--data-dir", work + "/data", "--listen", "127.0.0.1:\(port)",
                                                   "--token-auth-file", work + "/tokens.csv", "--log-level", "warning"],
                                       port: port, dataDir: work + "/data")
        defer { server.stop() }
        let kubeconfig = work + "/data/admin.kubeconfig"
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: kubeconfig), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        var targets = [try APITarget(name: "skiff", kubeconfig: kubeconfig, work: work, staticToken: adminToken,
                                     memory: { server.residentMiB })]
        if let peerKubeconfig {
            let pids = (peerPids ?? "").split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
            targets.append(try APITarget(name: "peer", kubeconfig: peerKubeconfig, work: work, staticToken: peerToken,
                                         memory: pids.isEmpty ? nil : {
                                             pids.reduce(0) { sum, pid in
                                                 childProcesses(of: pid).reduce(sum + ServerProcess.residentMiB(of: pid)) { $0 + ServerProcess.residentMiB(of: $1) }
                                             }
                                         }))
        }
        print("Kubernetes API, \(auth == .serviceaccount ? "bound service account token, namespaced Role" : "static admin token"); "
              + "h2load \(clients) connections x \(streams) streams; \(objects) ConfigMaps")
        // Each step runs on every server back to back (in turns: the first server of one
        // step goes last in the next), so that the machine's drift between steps hits both.
        var runs = try targets.map { try Run(target: $0, auth: auth, work: work) }
        let steps: [(String, (inout Run) throws -> String)] = [
            ("CREATE", { run in
                run.figures.create = try run.h2.run(["-n", String(objects), "-c", String(clients), "-m", String(streams),
                                                     "-d", work + "/create.json", "-H", "content-type: application/json", run.base])
                return run.figures.create.line("CREATE")
            }),
            ("GET", { run in
                run.figures.get = try run.h2.run(["-n", String(gets), "-c", String(clients), "-m", String(streams), run.base + "/bench-get"])
                return run.figures.get.line("GET, JSON")
            }),
            ("GET protobuf", { run in
                run.figures.getProtobuf = try run.h2.run(["-n", String(gets), "-c", String(clients), "-m", String(streams), run.base + "/bench-get"],
                                                         accept: "application/vnd.kubernetes.protobuf")
                return run.figures.getProtobuf.line("GET, protobuf")
            }),
            ("LIST", { run in
                run.figures.list = try run.h2.run(["-n", "10", "-c", "1", "-m", "1", run.base])
                return run.figures.list.line("LIST all, JSON")
            }),
            ("LIST gzip", { run in
                run.figures.listGzip = try run.h2.run(["-n", "10", "-c", "1", "-m", "1", "-H", "accept-encoding: gzip", run.base])
                run.figures.listBytes = try run.target.downloadedBytes(run.base, token: run.token, gzip: false)
                run.figures.listGzipBytes = try run.target.downloadedBytes(run.base, token: run.token, gzip: true)
                return run.figures.listGzip.line("LIST all, gzip")
                    + String(format: "; %.2f MB on the wire (%.2f MB plain)", run.figures.listGzipBytes / 1e6, run.figures.listBytes / 1e6)
            }),
            ("LIST paged", { run in
                run.figures.pagedMs = try run.target.pagedList(namespace: run.namespace, token: run.token, limit: pageSize)
                return String(format: "LIST paged        : %.1f ms for every page of %d", run.figures.pagedMs, pageSize)
            }),
            ("PATCH watched", { run in
                let u = try UpdateUnderWatchers(watchers: watchers, rate: updateRate, seconds: updateSeconds)
                    .run(run.target, namespace: run.namespace, token: run.token, work: work)
                run.figures.update = u
                return String(format: "PATCH, %d watchers: round trip p50 %.2f ms, p99 %.2f ms; event p50 %.2f ms, p99 %.2f ms (%d of %d events), %d errors",
                              watchers, u.patchP50, u.patchP99, u.eventP50, u.eventP99, u.events, u.expected, u.errors)
            }),
            ("churn", { run in
                guard churnSeconds > 0 else { return "churn: not run" }
                run.figures.churn = try run.target.churn(namespace: run.namespace + "-churn", token: run.token, seconds: churnSeconds,
                                                         rate: 0, work: work)
                return "churn, 8 writers, 20 Python informers, \(churnSeconds) s: \(run.figures.churn)"
            }),
            ("paced churn", { run in
                guard churnSeconds > 0, churnRate > 0 else { return "paced churn: not run" }
                run.figures.pacedChurn = try run.target.churn(namespace: run.namespace + "-churn", token: run.token, seconds: churnSeconds,
                                                              rate: churnRate, work: work)
                return "churn paced at \(churnRate) writes/s: \(run.figures.pacedChurn)"
            }),
        ]
        for (number, (_, step)) in steps.enumerated() {
            let order = number % 2 == 0 ? Array(runs.indices) : Array(runs.indices.reversed())
            for index in order {
                print("\(runs[index].target.name): " + (try step(&runs[index])))
            }
        }
        for index in runs.indices {
            runs[index].figures.rssLoaded = runs[index].target.memory?() ?? .nan
            print(String(format: "%@: RSS %.0f MiB idle, %.0f MiB with the objects", runs[index].target.name,
                         runs[index].figures.rssIdle, runs[index].figures.rssLoaded))
        }
        print("")
        APIFigures.printTable(runs.map(\.figures))
    }

    /// One server's namespace, credentials and figures.
    struct Run {
        let target: APITarget
        let namespace: String
        let token: String
        let h2: H2Load
        /// The namespace's ConfigMaps.
        let base: String
        var figures: APIFigures

        init(target: APITarget, auth: AuthMode, work: String) throws {
            self.target = target
            namespace = "skiff-bench-" + String(UUID().uuidString.prefix(8)).lowercased()
            token = try target.prepare(namespace: namespace, auth: auth)
            figures = APIFigures(name: target.name)
            figures.rssIdle = target.memory?() ?? .nan
            h2 = H2Load(work: work, token: token)
            base = target.server + "/api/v1/namespaces/\(namespace)/configmaps"
            try #"{"metadata":{"name":"bench-get"},"data":{"key":"value"}}"#.write(toFile: work + "/one.json", atomically: true, encoding: .utf8)
            try #"{"metadata":{"generateName":"bench-"},"data":{"key":"a value of some thirty bytes.."}}"#
                .write(toFile: work + "/create.json", atomically: true, encoding: .utf8)
            _ = try h2.run(["-n", "1", "-c", "1", "-d", work + "/one.json", "-H", "content-type: application/json", base])
            print("\(target.name): \(target.server), namespace \(namespace)")
        }
    }
}

/// h2load against one server with one bearer token, its per-request log read for the
/// latency percentiles.
struct H2Load {
    let work: String
    let token: String

    func run(_ arguments: [String], accept: String = "application/json") throws -> LoadResult {
        let log = work + "/h2load.log"
        try? FileManager.default.removeItem(atPath: log)
        let headers = ["-H", "authorization: Bearer \(token)", "-H", "accept: \(accept)"]
        let text = try runProgram(try which("h2load"), ["--log-file", log] + headers + arguments)
        func number(after marker: String, in line: String) -> Double? {
            guard let range = line.range(of: marker) else { return nil }
            return Double(line[..<range.lowerBound].split(separator: " ").last ?? "")
        }
        let lines = text.split(separator: "\n").map(String.init)
        let rate = lines.compactMap { number(after: " req/s", in: $0) }.first ?? 0
        let requestsLine = lines.first { $0.hasPrefix("requests:") } ?? ""
        let total = Int(number(after: " total", in: requestsLine) ?? 0)
        // Log lines: start time (µs), status, elapsed (µs).
        let entries = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: "\t") }
        let succeeded = entries.filter { $0.count >= 3 && $0[1].hasPrefix("2") }.count
        let samples = entries.compactMap { $0.count >= 3 ? Double($0[2]).map { $0 / 1000 } : nil }.sorted()
        guard succeeded > 0 else { throw BenchmarkError("h2load failed: \(text)") }
        return LoadResult(requests: total, succeeded: succeeded, perSecond: rate, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99))
    }
}

struct LoadResult {
    var requests = 0
    var succeeded = 0
    var perSecond = Double.nan
    var p50 = Double.nan
    var p99 = Double.nan

    func line(_ name: String) -> String {
        String(format: "%@: %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d of %d succeeded)",
               name.padding(toLength: 18, withPad: " ", startingAt: 0), perSecond, p50, p99, succeeded, requests)
    }
}
