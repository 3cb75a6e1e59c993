import Foundation
import TestSupport
import Testing

/// Five members: three voters, two stand-bys; a lost voter is replaced, a stopping one
/// hands its role over, and a member can be removed.
extension ClusterIntegrationTests {
    @Test func lostVoterIsReplacedAndStoppingVoterHandsOver() async throws {
        let cluster = try TestCluster.start(5)
        defer { cluster.destroy() }
        func voters(_ s: [MemberStatus]) -> [MemberStatus] { s.filter { $0.role == "voter" } }
        let initial = try await cluster.waitForStatus(timeout: 40) { s in
            s.count == 5 && voters(s).count == 3 && s.filter { $0.role == "stand-by" }.count == 2 && s.allSatisfy(\.healthy)
        }
        #expect(voters(initial).count == 3 && initial.filter { $0.role == "stand-by" }.count == 2, "\(initial)\n\(cluster.logs)")
        let put = try cluster.members[4].etcdctl(["put", "/five/a", "1"])
        #expect(put.status == 0, "\(put.stderr)")

        // kill -9 of a voter that does not lead: a stand-by becomes a voter.
        let victimStatus = try #require(voters(initial).first { !$0.leader })
        let victim = try #require(cluster.member(at: victimStatus.address))
        victim.kill9()
        let started = Date()
        let replaced = try await cluster.waitForStatus(timeout: 20) { s in
            voters(s).count == 3 && voters(s).allSatisfy(\.healthy) && !voters(s).contains { $0.id == victimStatus.id }
        }
        print("voter replaced after \(Date().timeIntervalSince(started)) s")
        #expect(voters(replaced).count == 3 && voters(replaced).allSatisfy(\.healthy), "\(replaced)\n\(cluster.logs)")
        #expect(!voters(replaced).contains { $0.id == victimStatus.id })

        // SIGTERM of the leader: it hands leadership and its role over before it stops.
        let leaderStatus = try #require(replaced.first { $0.leader })
        let leader = try #require(cluster.member(at: leaderStatus.address))
        leader.terminate()
        let after = try cluster.status()
        #expect(!(after.first { $0.id == leaderStatus.id }?.leader ?? true), "\(after)")
        #expect(voters(after).count == 3 && !voters(after).contains { $0.id == leaderStatus.id },
                "the stopped leader's vote went to another node before it stopped: \(after)\n\(cluster.logs)")
        let demoted = try await cluster.waitForStatus(timeout: 10) { s in s.first { $0.id == leaderStatus.id }?.role == "spare" }
        #expect(demoted.first { $0.id == leaderStatus.id }?.role == "spare", "\(demoted)")
        let settled = try await cluster.waitForStatus(timeout: 20) { s in voters(s).count == 3 && voters(s).allSatisfy(\.healthy) }
        #expect(voters(settled).count == 3 && voters(settled).allSatisfy(\.healthy), "\(settled)")
        let get = try cluster.members.first { $0.isRunning }!.etcdctl(["get", "/five/a", "--print-value-only"])
        #expect(get.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        // `skiff cluster remove` takes the dead member out.
        let running = try #require(cluster.members.first { $0.isRunning })
        _ = try cluster.skiff(["cluster", "remove", "--data-dir", running.dataDir, String(victimStatus.id)])
        let final = try cluster.status()
        #expect(!final.contains { $0.id == victimStatus.id }, "\(final)")
    }
}
