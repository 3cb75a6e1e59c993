import Foundation
import TestSupport
import Testing

/// Three `skiff server` members on one dqlite cluster: one runs the control loops (it holds
/// the controller Lease); when it dies, another takes them over.
extension ClusterIntegrationTests {
    @Test func controlLoopsMoveWhenTheirNodeDies() async throws {
        let cluster = try TestCluster.start(3, kind: .server)
        defer { cluster.destroy() }
        let first = cluster.members[0]
        // Every member serves the same API: the admin identity works on all of them.
        #expect(try first.kubectl(["create", "configmap", "shared", "--from-literal=a=b"]).status == 0)
        for member in cluster.members {
            let got = try member.kubectl(["get", "configmap", "shared", "-o", "jsonpath={.data.a}"])
            #expect(got.stdout == "b", "\(member.endpoint): \(got.stdout) \(got.stderr)")
        }
        func holder(_ member: ClusterMember) throws -> String {
            try member.kubectl(["-n", "kube-system", "get", "lease", "skiff-controllers", "-o", "jsonpath={.spec.holderIdentity}"]).stdout
        }
        let before = try holder(first)
        let identities = try cluster.members.map { m -> String in
            let data = try Data(contentsOf: URL(fileURLWithPath: m.dataDir + "/cluster/node.json"))
            let id = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? NSNumber
            return "node-\(id?.uint64Value ?? 0)"
        }
        let index = try #require(identities.firstIndex { before.hasSuffix($0) }, "lease holder \(before), members \(identities)")
        cluster.members[index].kill9()
        let survivor = cluster.members[(index + 1) % 3]

        // A namespace deletion through a survivor completes: the loops run elsewhere now.
        #expect(try survivor.kubectl(["create", "namespace", "after"]).status == 0)
        #expect(try survivor.kubectl(["-n", "after", "create", "configmap", "c"]).status == 0)
        #expect(try survivor.kubectl(["delete", "namespace", "after", "--wait=false"]).status == 0)
        var gone = false
        for _ in 0..<120 where !gone {
            try await Task.sleep(for: .milliseconds(500))
            gone = try survivor.kubectl(["get", "namespace", "after", "--ignore-not-found", "-o", "name"]).stdout.isEmpty
        }
        #expect(gone, "the namespace deletion did not complete\n\(cluster.logs)")
        let after = try holder(survivor)
        #expect(after != before && !after.isEmpty, "the lease stayed with \(before)")
    }
}
