import Foundation
import TestSupport
import Testing

/// A cluster that lost two of its three voters for good comes back from the survivor with
/// `skiff cluster recover`.
extension ClusterIntegrationTests {
    @Test func aSurvivorRecoversTheClusterAfterQuorumLoss() async throws {
        let cluster = try TestCluster.start(3)
        defer { cluster.destroy() }
        let status = try await cluster.waitForStatus(timeout: 30) { s in s.filter { $0.role == "voter" && $0.healthy }.count == 3 }
        #expect(status.filter { $0.role == "voter" }.count == 3, "\(status)")
        let survivor = cluster.members[2]
        #expect(try survivor.etcdctl(["put", "/kept", "yes"]).status == 0)

        // Two voters die for good: no quorum, writes fail.
        cluster.members[0].kill9()
        cluster.members[1].kill9()
        let stuck = try run(try which("etcdctl"), ["--endpoints=\(survivor.endpoint)", "--command-timeout=3s", "put", "/lost", "x"],
                            environment: ["ETCDCTL_API": "3"], timeout: 60)
        #expect(stuck.status != 0, "a write without quorum must fail: \(stuck.stdout)")

        // etcd's plain endpoints on the survivor say so too: /health is 503 with etcd's reason
        // and /metrics has no leader, within the member's 3 s window of leader contact.
        var health = try curl("http://" + survivor.endpoint + "/health")
        let deadline = ContinuousClock.now + .seconds(20)
        while health.status != 503 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            health = try curl("http://" + survivor.endpoint + "/health")
        }
        #expect(health.status == 503 && health.body == #"{"health":"false","reason":"RAFT NO LEADER"}"#, "\(health)")
        #expect(try curl("http://" + survivor.endpoint + "/metrics").sample("etcd_server_has_leader") == 0)

        // A watch stream that requires a leader (clientv3.WithRequireLeader, as kube-apiserver
        // opens them) ends with Unavailable "etcdserver: no leader", so that its client moves
        // to another member; a stream without that requirement stays open.
        let leaderless = try pythonJSON("require_leader.py", [survivor.endpoint, "20"])
        let required = leaderless["required"] as? [String: Any]
        #expect(required?["code"] as? String == "UNAVAILABLE", "\(leaderless)")
        #expect((required?["details"] as? String)?.contains("no leader") == true, "\(leaderless)")
        #expect(leaderless["plain_open"] as? Bool == true, "\(leaderless)")

        // Recovery refuses to run while the member's node runs.
        let busy = try run(try builtProduct("skiff"), ["cluster", "recover", "--data-dir", survivor.dataDir])
        #expect(busy.status != 0 && busy.stderr.contains("stop its server"), "\(busy.stdout)\(busy.stderr)")

        survivor.kill9()
        let recovered = try run(try builtProduct("skiff"), ["cluster", "recover", "--data-dir", survivor.dataDir])
        #expect(recovered.status == 0 && recovered.stdout.contains("only member"), "\(recovered.stdout)\(recovered.stderr)")
        try survivor.start()
        let put = try survivor.etcdctl(["put", "/after", "ok"])
        #expect(put.status == 0, "\(put.stderr)\n\(survivor.logTail)")
        #expect(try survivor.etcdctl(["get", "/kept", "--print-value-only"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "yes")
        let alone = try await cluster.waitForStatus(timeout: 20) { s in s.count == 1 && s[0].leader && s[0].role == "voter" }
        #expect(alone.count == 1 && alone.first?.leader == true, "\(alone)")
    }
}
