import Foundation
import TestSupport
import Testing

/// A DeleteRange larger than one transaction should hold on dqlite (issue 21: as one 170 MB
/// Raft entry it lost leadership and crashed a node), through real etcd clients.
extension ClusterIntegrationTests {
    /// `etcdctl del --prefix` of 16,500 keys (more than the 16,384 one step takes) deletes
    /// every one and no other, in two steps of one revision each, and answers the full count.
    @Test(.timeLimit(.minutes(4)))
    func aPrefixDeletionLargerThanAStepDeletesEveryKeyInSteps() async throws {
        let cluster = try TestCluster.start(1)
        defer { cluster.destroy() }
        let member = cluster.members[0]
        let port = member.endpoint.split(separator: ":").last.map(String.init) ?? "0"
        try await offPool {
            // Python's etcd3 writes the keys in transactions of 128 puts (etcd's --max-txn-ops).
            let wrote = try run(try which("python3"), ["-c", """
                import etcd3
                c = etcd3.client(host="127.0.0.1", port=\(port), timeout=60)
                n = 16500
                for start in range(0, n, 128):
                    c.transaction(compare=[], success=[c.transactions.put("/big/%06d" % i, "v") for i in range(start, min(n, start + 128))], failure=[])
                c.put("/bigz", "outside")
                print(n)
                """], timeout: 180)
            #expect(wrote.status == 0 && wrote.stdout == "16500\n", "\(wrote.stdout)\(wrote.stderr)")
            let before = try Self.revision(member)

            let deleted = try member.etcdctl(["del", "--prefix", "/big/"], timeout: 120)
            #expect(deleted.status == 0 && deleted.stdout == "16500\n", "\(deleted.stdout)\(deleted.stderr)\n\(member.logTail)")

            let left = try member.etcdctl(["get", "--prefix", "/big/", "--keys-only"])
            #expect(left.status == 0 && left.stdout.isEmpty, "keys left: \(left.stdout.prefix(200))\(left.stderr)")
            #expect(try member.etcdctl(["get", "/bigz", "--print-value-only"]).stdout == "outside\n")
            // Two steps: 16,384 keys, then 116, each one transaction at one revision.
            #expect(try Self.revision(member) == before + 2)
        }
    }

    /// The member's current revision, from an etcdctl read's header.
    private static func revision(_ member: ClusterMember) throws -> Int64 {
        let out = try member.etcdctl(["get", "/bigz", "-w", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        let header = json?["header"] as? [String: Any]
        return try #require((header?["revision"] as? NSNumber)?.int64Value, "\(out.stdout)\(out.stderr)")
    }
}
