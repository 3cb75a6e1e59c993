import Foundation
import TestSupport
import Testing

/// A member that comes back behind by more than one AppendEntries message may carry (16 MiB
/// in the node process, RaftSendLimit) catches up in pieces, and ends up with every entry.
extension ClusterIntegrationTests {
    /// A follower is killed while 80 values of 512 KiB (about 42 MB of Raft entries) are
    /// written, and started again. The leader's node cuts its messages to the returning
    /// member. That member then holds every entry: with the other follower gone, a write
    /// still commits (the leader needs the returning member's log to match its own); and
    /// with the leader gone too and the other follower back, the returning member is the one
    /// that can be elected, and every value reads back from its database.
    @Test(.timeLimit(.minutes(5)))
    func aMemberBehindByMoreThanOneMessageCatchesUpInPieces() async throws {
        let cluster = try TestCluster.start(3)
        defer { cluster.destroy() }
        let status = try await cluster.waitForStatus(timeout: 30) { s in
            s.count == 3 && s.allSatisfy { $0.role == "voter" && $0.healthy } && s.contains(where: \.leader)
        }
        let leaderAddress = try #require(status.first(where: \.leader)?.address, "\(status)\n\(cluster.logs)")
        let leader = try #require(cluster.member(at: leaderAddress))
        let followers = cluster.members.filter { $0 !== leader }
        let (returning, other) = (followers[0], followers[1])
        try await offPool { returning.kill9() }

        let value = "((\"%03d\" % i) * 174763)[:524288]"
        let wrote = try await offPool {
            try run(try which("python3"), ["-c", """
                import etcd3
                host, port = "\(leader.endpoint)".split(":")
                c = etcd3.client(host=host, port=int(port), timeout=60)
                for i in range(80):
                    c.put("/catchup/%03d" % i, \(value))
                print(80)
                """], timeout: 180)
        }
        #expect(wrote.status == 0 && wrote.stdout == "80\n", "\(wrote.stdout)\(wrote.stderr)")

        try await offPool { try returning.start() }
        let cutLine = "raft: cut AppendEntries messages to a member that is behind"
        let cut = try await waitUntil(timeout: 60) {
            ((try? String(contentsOfFile: leader.logFile, encoding: .utf8)) ?? "").contains(cutLine)
        }
        #expect(cut, "the leader's node never cut a message:\n\(leader.logTail)")
        #expect(((try? String(contentsOfFile: leader.logFile, encoding: .utf8)) ?? "")
                    .contains("raft AppendEntries messages carry at most 16 MiB of entries"))

        // The leader and the returning member alone: a write commits only once the
        // returning member's log has every entry before it.
        try await offPool { other.kill9() }
        let committed = try await waitUntil(timeout: 60) {
            (try? leader.etcdctl(["put", "/catchup/after", "committed"]))?.status == 0
        }
        #expect(committed, "no write committed with the returning member\n\(cluster.logs)")

        // Only the returning member has that write now: it is elected, and reads go to it.
        try await offPool {
            leader.kill9()
            try other.start()
        }
        let read = try await offPool {
            try run(try which("python3"), ["-c", """
                import etcd3, json, time
                host, port = "\(other.endpoint)".split(":")
                deadline = time.time() + 90
                while True:
                    try:
                        c = etcd3.client(host=host, port=int(port), timeout=10)
                        bad = []
                        for i in range(80):
                            got, _ = c.get("/catchup/%03d" % i)
                            if got is None or got.decode() != \(value):
                                bad.append(i)
                        after, _ = c.get("/catchup/after")
                        print(json.dumps({"bad": bad, "after": after.decode() if after else None}))
                        break
                    except Exception as error:
                        if time.time() > deadline:
                            print(json.dumps({"error": str(error)}))
                            break
                        time.sleep(0.5)
                """], timeout: 180)
        }
        let result = try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any]
        #expect((result?["bad"] as? [Int]) == [], "\(read.stdout)\(read.stderr)\n\(cluster.logs)")
        #expect((result?["after"] as? String) == "committed", "\(read.stdout)\(read.stderr)")
    }

    /// Polls `condition` off the cooperative pool every 200 ms until it holds or `timeout`
    /// seconds pass.
    private func waitUntil(timeout: TimeInterval, _ condition: @escaping @Sendable () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await offPool(condition) { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}
