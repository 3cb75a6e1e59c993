import Cluster
import Foundation
import Storage
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One member of a test cluster: a real `skiff etcd` process on dqlite, its node process,
/// a cluster port and an etcd endpoint on loopback, and its data directory.
final class ClusterMember: @unchecked Sendable {
    let dataDir: String
    let clusterAddress: String
    private(set) var endpoint = ""
    private(set) var process: Process?
    let logFile: String

    /// Which server the member runs: `skiff etcd`, or `skiff server` (the Kubernetes API).
    enum Kind { case etcd, server }
    let kind: Kind

    init(dataDir: String, clusterAddress: String, kind: Kind = .etcd) {
        self.dataDir = dataDir
        self.clusterAddress = clusterAddress
        self.kind = kind
        logFile = dataDir + ".log"
    }

    /// Starts (or restarts) the member; `join` and `token` only on its first start. The
    /// endpoint is the etcd endpoint (HOST:PORT) or the Kubernetes API's URL.
    func start(join: String? = nil, token: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct("skiff"))
        var arguments = kind == .etcd
            ? ["etcd", "--data-dir", dataDir, "--listen-client-urls", "http://127.0.0.1:0"]
            : ["server", "--data-dir", dataDir, "--listen", "127.0.0.1:0"]
        arguments += ["--datastore", "dqlite", "--cluster-listen", clusterAddress]
        if let join, let token { arguments += ["--join", join, "--token", token] }
        process.arguments = arguments
        let marker = kind == .etcd ? "on http://127.0.0.1:" : "Kubernetes API on https://127.0.0.1:"
        let kind = self.kind
        endpoint = try startAnnouncedProcess(process, logFile: logFile + (self.process == nil ? "" : ".restart")) { text in
            guard let range = text.range(of: marker),
                  let end = text[range.upperBound...].firstIndex(of: " ") else { return nil }
            return (kind == .etcd ? "127.0.0.1:" : "https://127.0.0.1:") + text[range.upperBound..<end]
        }
        self.process = process
    }

    /// kubectl (1.32) against this member's Kubernetes API with the cluster's admin identity.
    func kubectl(_ arguments: [String]) throws -> CommandOutput {
        try run("/usr/bin/kubectl", ["--kubeconfig", dataDir + "/admin.kubeconfig", "--server", endpoint] + arguments, timeout: 120)
    }

    var pid: Int32 { process?.processIdentifier ?? 0 }
    var isRunning: Bool { process?.isRunning ?? false }

    /// kill -9 of the member's server process and its node process at once, as when the
    /// machine dies. (A lone kill -9 of the server also ends the node, a moment later.)
    func kill9() {
        guard let process, process.isRunning else { return }
        let pid = process.processIdentifier
        for child in childProcesses(of: pid) { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, and waits for the member to finish stopping.
    func terminate() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    func etcdctl(_ arguments: [String], timeout: TimeInterval = 60) throws -> CommandOutput {
        try run(try which("etcdctl"), ["--endpoints=\(endpoint)", "--dial-timeout=5s", "--command-timeout=30s"] + arguments,
                environment: ["ETCDCTL_API": "3"], timeout: timeout)
    }

    /// The last lines of this member's log, for failure messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(30).joined(separator: "\n")
    }
}

/// A member as `skiff cluster status -o json` reports it.
struct MemberStatus: Decodable {
    var id: UInt64
    var address: String
    var role: String
    var leader: Bool
    var healthy: Bool
    /// Why the member did not answer the probe, when it did not.
    var error: String?
}

/// A cluster of real `skiff etcd` processes on loopback.
final class TestCluster: @unchecked Sendable {
    let root: String
    private(set) var members: [ClusterMember] = []
    private(set) var token = ""

    let kind: ClusterMember.Kind

    init(kind: ClusterMember.Kind = .etcd) {
        self.kind = kind
        root = NSTemporaryDirectory() + "skiff-cluster-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Starts `count` members: the first bootstraps, each next joins through a member
    /// already running (not always the first).
    static func start(_ count: Int, kind: ClusterMember.Kind = .etcd) throws -> TestCluster {
        let cluster = TestCluster(kind: kind)
        do {
            for _ in 0..<count { try cluster.addMember() }
        } catch {
            cluster.destroy()
            throw error
        }
        return cluster
    }

    @discardableResult
    func addMember() throws -> ClusterMember {
        let member = ClusterMember(dataDir: root + "/node\(members.count + 1)", clusterAddress: "127.0.0.1:\(try freeLoopbackPort())", kind: kind)
        do {
            try startMember(member)
        } catch {
            throw CommandFailed(command: "start of member \(members.count + 1)", output: "\(error)\n" + member.logTail)
        }
        members.append(member)
        return member
    }

    private func startMember(_ member: ClusterMember) throws {
        if members.isEmpty {
            try member.start()
            token = try skiff(["cluster", "token", "--data-dir", member.dataDir]).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            let through = members[members.count - 1]
            try member.start(join: through.clusterAddress, token: token)
        }
    }

    /// `skiff cluster status -o json`, asked of a running member.
    func status() throws -> [MemberStatus] {
        guard let member = members.first(where: \.isRunning) else { return [] }
        let out = try skiff(["cluster", "status", "--data-dir", member.dataDir, "-o", "json"])
        return try JSONDecoder().decode([MemberStatus].self, from: Data(out.utf8))
    }

    /// Polls `status()` until `condition` holds or `timeout` passes; returns the last status.
    func waitForStatus(timeout: TimeInterval, _ condition: ([MemberStatus]) -> Bool) async throws -> [MemberStatus] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [MemberStatus] = []
        var lastError: (any Error)?
        while Date() < deadline {
            do {
                last = try status()
                lastError = nil
                if condition(last) { return last }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        if let lastError { print("the last `skiff cluster status` failed: \(lastError)") }
        return last
    }

    /// How the first member's server reaches the replicated database.
    func datastoreConfiguration() throws -> DqliteConfiguration {
        let paths = ClusterPaths(dataDirectory: members[0].dataDir)
        guard let identity = try ClusterIdentity.load(paths) else {
            throw CommandFailed(command: "ClusterIdentity.load(\(paths.dataDirectory))", output: "no cluster identity")
        }
        return try ClusterDatastore.configuration(paths: paths, identity: identity)
    }

    func member(at address: String) -> ClusterMember? { members.first { $0.clusterAddress == address } }

    func skiff(_ arguments: [String]) throws -> String {
        let result = try run(try builtProduct("skiff"), arguments, timeout: 60)
        guard result.status == 0 else { throw CommandFailed(command: "skiff " + arguments.joined(separator: " "), output: result.stdout + result.stderr) }
        return result.stdout
    }

    func destroy() {
        for m in members { m.kill9() }
        try? FileManager.default.removeItem(atPath: root)
    }

    var logs: String { members.enumerated().map { "--- node\($0.offset + 1)\n" + $0.element.logTail }.joined(separator: "\n") }
}

struct CommandFailed: Error, CustomStringConvertible {
    let command: String
    let output: String
    var description: String { "\(command) failed: \(output)" }
}

/// Runs one of this target's Python scripts and decodes the JSON object it prints.
func pythonJSON(_ script: String, _ arguments: [String], timeout: TimeInterval = 300) throws -> [String: Any] {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/" + script).path
    let result = try run(try which("python3"), [path] + arguments, timeout: timeout)
    guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
        throw CommandFailed(command: script, output: result.stdout + result.stderr)
    }
    return object
}

/// ``pythonJSON(_:_:timeout:)`` on a Dispatch thread: the script blocks its thread while it
/// runs, which must not be one of the cooperative pool's.
func pythonJSONOffPool(_ script: String, _ arguments: [String], timeout: TimeInterval = 300) async throws -> JSONBox {
    try await offPool { JSONBox(object: try pythonJSON(script, arguments, timeout: timeout)) }
}
