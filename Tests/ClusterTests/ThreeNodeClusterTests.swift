import Foundation
import NIOSSL
import Storage
import TestSupport
import Testing

/// Real clusters of `skiff etcd` members on dqlite, driven with etcdctl and Python's etcd3.
/// One at a time: each starts several members and measures failover.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ClusterIntegrationTests {}

/// Three members.
extension ClusterIntegrationTests {
    @Test func replicatesWatchesAcrossNodesAndRefusesStrangers() async throws {
        let cluster = try TestCluster.start(3)
        defer { cluster.destroy() }
        let status = try await cluster.waitForStatus(timeout: 30) { s in
            s.count == 3 && s.allSatisfy { $0.role == "voter" && $0.healthy } && s.filter(\.leader).count == 1
        }
        #expect(status.count == 3 && status.allSatisfy { $0.role == "voter" && $0.healthy }, "\(status)\n\(cluster.logs)")
        #expect(status.filter(\.leader).count == 1)

        // A write through any member is readable through every member.
        for (i, writer) in cluster.members.enumerated() {
            let put = try writer.etcdctl(["put", "/rep/\(i)", "from-node-\(i + 1)"])
            #expect(put.status == 0, "\(put.stderr)")
            for reader in cluster.members {
                let got = try reader.etcdctl(["get", "/rep/\(i)", "--print-value-only"])
                #expect(got.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "from-node-\(i + 1)",
                        "node \(reader.clusterAddress) read \(got.stdout) \(got.stderr)")
            }
        }

        // A snapshot through a follower is a consistent copy that etcdctl accepts.
        let snapshot = cluster.root + "/snapshot.db"
        let saved = try cluster.members[1].etcdctl(["snapshot", "save", snapshot])
        #expect(saved.status == 0, "\(saved.stdout)\(saved.stderr)")
        let snapshotStatus = try run(try which("etcdctl"), ["snapshot", "status", snapshot, "-w", "json"], environment: ["ETCDCTL_API": "3"])
        let snapshotInfo = try JSONSerialization.jsonObject(with: Data(snapshotStatus.stdout.utf8)) as? [String: Any]
        // Three puts after the new cluster's revision 1.
        #expect((snapshotInfo?["revision"] as? NSNumber)?.intValue == 4, "\(snapshotStatus.stdout)\(snapshotStatus.stderr)")

        // A watch on node 3 sees writes made through node 1, promptly (no one-second poll).
        let latency = try pythonJSON("watch_latency.py", [cluster.members[2].endpoint, cluster.members[0].endpoint, "40"])
        let delays = (latency["delays_ms"] as? [Double] ?? []).sorted()
        #expect((latency["missing"] as? [String] ?? ["?"]).isEmpty, "\(latency)")
        #expect(delays.count == 40)
        let median = delays.isEmpty ? .infinity : delays[delays.count / 2]
        print("cross-node watch delay: median \(median) ms, max \(delays.last ?? 0) ms")
        #expect(median < 500, "cross-node watch median \(median) ms: \(delays)")

        // A watch created on a member right after a write answered by another is not behind
        // it: its "created" header and a progress answer carry at least the write's
        // revision (kube-apiserver's watch cache waits for that), and the next change comes.
        let afterWrite = try pythonJSON("member_watch_revision.py", [cluster.members[2].endpoint, cluster.members[0].endpoint, "30"])
        #expect((afterWrite["behind"] as? [Any])?.isEmpty == true, "\(afterWrite)")
        #expect((afterWrite["missed"] as? [Any])?.isEmpty == true, "\(afterWrite)")

        // A crash of a node process (an assertion in libdqlite, say) costs a restart, not
        // the server: the supervisor starts it again and the member serves on.
        let member = cluster.members[2]
        let nodeProcess = try #require(childProcesses(of: member.pid).first, "no node process under member 3")
        kill(nodeProcess, SIGKILL)
        var restarted = false
        for _ in 0..<60 where !restarted {
            try await Task.sleep(for: .milliseconds(250))
            let children = childProcesses(of: member.pid)
            guard !children.isEmpty, !children.contains(nodeProcess) else { continue }
            restarted = try member.etcdctl(["put", "/after-node-crash", "ok"]).status == 0
        }
        #expect(restarted && member.isRunning, "member 3's node process was not restarted\n\(member.logTail)")
        #expect(member.logTail.contains("restarting"), "\(member.logTail)")
        // The member's /metrics (etcd's, on the client port) counts the restart and reports
        // the new node process's memory beside its own.
        let metrics = try curl("http://" + member.endpoint + "/metrics")
        #expect(metrics.sample("skiff_dqlite_node_restarts_total") == 1, "\(metrics.body)")
        #expect((metrics.sample("skiff_dqlite_node_resident_memory_bytes") ?? 0) > 1_048_576, "\(metrics.body)")
        #expect((metrics.sample("process_resident_memory_bytes") ?? 0) > 1_048_576, "\(metrics.body)")
        #expect(metrics.sample("etcd_server_has_leader") == 1, "\(metrics.body)")

        // A join with a wrong token is refused, and the cluster is unchanged.
        let wrongToken = String(cluster.token.dropLast(4)) + "0000"
        let intruder = ClusterMember(dataDir: cluster.root + "/intruder", clusterAddress: "127.0.0.1:\(try freeLoopbackPort())")
        #expect(throws: ServerDidNotStart.self) { try intruder.start(join: cluster.members[0].clusterAddress, token: wrongToken) }
        let intruderLog = (try? String(contentsOfFile: intruder.logFile, encoding: .utf8)) ?? ""
        #expect(intruderLog.contains("refused") && intruderLog.contains("token"), "\(intruderLog)")
        #expect(try cluster.status().count == 3)

        // Without a certificate signed by the cluster CA, nobody talks to a node.
        let address = cluster.members[0].clusterAddress
        await #expect(throws: (any Error).self) {
            let plain = try await DqliteClient.connect(to: address, tls: nil, timeout: .seconds(3))
            defer { plain.close() }
            _ = try await plain.leader()
        }
        var anonymous = TLSConfiguration.makeClientConfiguration()
        anonymous.certificateVerification = .none
        let anonymousTLS = try NIOSSLContext(configuration: anonymous)
        await #expect(throws: (any Error).self) {
            let client = try await DqliteClient.connect(to: address, tls: anonymousTLS, timeout: .seconds(3))
            defer { client.close() }
            _ = try await client.leader()
        }
    }

    @Test func leaderKilledUnderLoadLosesNoAcknowledgedWrite() async throws {
        let cluster = try TestCluster.start(3)
        defer { cluster.destroy() }
        let status = try await cluster.waitForStatus(timeout: 30) { s in s.count == 3 && s.contains(where: \.leader) && s.allSatisfy(\.healthy) }
        let leaderAddress = try #require(status.first { $0.leader }?.address, "\(status)\n\(cluster.logs)")
        let leader = try #require(cluster.member(at: leaderAddress))
        let survivors = cluster.members.filter { $0 !== leader }
        // Every node process hands libraft's segment AIO teardown to a thread of its own:
        // the skiff executable exports its syscall(2), which libraft's calls resolve to.
        for member in cluster.members {
            let log = (try? String(contentsOfFile: member.logFile, encoding: .utf8)) ?? ""
            #expect(log.contains("raft segment AIO teardown runs off the event loop") && !log.contains("is not interposed"),
                    "\(member.dataDir)\n\(member.logTail)")
        }

        // Four writers through the two survivors for 9 s; the leader dies 3 s in.
        let endpoints = survivors.map(\.endpoint)
        // The writer runs on a Dispatch thread (it blocks), not on the test's cooperative pool.
        let writer = Task {
            await withCheckedContinuation { (continuation: CheckedContinuation<JSONBox?, Never>) in
                DispatchQueue.global().async {
                    continuation.resume(returning: (try? pythonJSON("load_writer.py", ["9"] + endpoints)).map(JSONBox.init))
                }
            }
        }
        try await Task.sleep(for: .seconds(3))
        let killedAt = Date().timeIntervalSince1970
        leader.kill9()
        let loadResult = await writer.value?.object
        let result = try #require(loadResult, "the load writer failed\n\(cluster.logs)")
        let acked = (result["acked"] as? [[Any]] ?? []).compactMap { pair -> (String, Double)? in
            guard let key = pair.first as? String, let time = pair.last as? Double else { return nil }
            return (key, time)
        }
        let before = acked.filter { $0.1 < killedAt }.count
        #expect(before > 0, "no write succeeded before the kill: \(result["errors"] ?? "")")
        // The outage: the longest pause between acknowledgements from the kill on (writes
        // that had committed just before the kill may still be acknowledged after it).
        let times = acked.map(\.1).filter { $0 > killedAt - 0.1 }.sorted()
        let outage = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? .infinity
        let afterKill = acked.count - before
        print("writes before kill: \(before), after: \(afterKill), longest pause in acknowledgements after kill -9 of the leader: \(outage) s")
        // At the default --dqlite-latency-ms 50 the survivors wait 0.75-1.5 s (Raft's
        // randomized election timeout) before electing a new leader; measured 1.0-1.6 s.
        #expect(afterKill > 0 && outage < 3.0, "writes paused \(outage) s after the leader died\n\(cluster.logs)")

        // Every acknowledged write is there.
        let listed = try survivors[0].etcdctl(["get", "/load/", "--prefix", "--keys-only"])
        let present = Set(listed.stdout.split(separator: "\n").map(String.init))
        let lost = acked.map(\.0).filter { !present.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged writes lost, e.g. \(lost.prefix(5))")

        // The killed member restarts and catches up.
        try leader.start()
        let expected = present.count
        var caughtUp = -1
        for _ in 0..<50 {
            let keys = try leader.etcdctl(["get", "/load/", "--prefix", "--keys-only"])
            if keys.status == 0 {
                caughtUp = keys.stdout.split(separator: "\n").count
                if caughtUp == expected { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(caughtUp == expected, "restarted member sees \(caughtUp) of \(expected) keys")
        let healed = try await cluster.waitForStatus(timeout: 30) { s in s.filter { $0.role == "voter" && $0.healthy }.count == 3 }
        #expect(healed.filter { $0.role == "voter" && $0.healthy }.count == 3, "\(healed)\n\(cluster.logs)")
    }
}

/// A decoded JSON object carried across tasks (JSONSerialization's values are immutable).
struct JSONBox: @unchecked Sendable {
    let object: [String: Any]
}
