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
        // /metrics reports the server's and its node process's resources, and the node's
        // restarts: a node killed alone is started again and counted.
        func metric(_ name: String) throws -> Double? {
            let text = try first.kubectl(["get", "--raw", "/metrics"]).stdout
            return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(try (metric("process_resident_memory_bytes") ?? 0) > 1_048_576)
        let nodeMemory = try metric("skiff_dqlite_node_resident_memory_bytes")
        #expect((nodeMemory ?? 0) > 1_048_576, "the node process's memory: \(String(describing: nodeMemory))")
        #expect(try metric("skiff_dqlite_node_restarts_total") == 0)
        let node = try run("/usr/bin/pgrep", ["-f", "dqlite-node --data-dir \(first.dataDir) "]).stdout
            .split(separator: "\n").compactMap { Int32($0) }
        #expect(node.count == 1, "one node process of \(first.dataDir): \(node)")
        for pid in node { kill(pid, SIGKILL) }
        var restarted = false
        for _ in 0..<120 where !restarted {
            try await Task.sleep(for: .milliseconds(500))
            restarted = try metric("skiff_dqlite_node_restarts_total") == 1 && (metric("skiff_dqlite_node_resident_memory_bytes") ?? 0) > 0
        }
        #expect(restarted, "the node process was not restarted and counted\n\(cluster.logs)")

        // A custom resource defined through one member is served by all of them.
        let crd = """
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gizmos.example.com"},
             "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "gizmos", "kind": "Gizmo"},
                      "versions": [{"name": "v1", "served": true, "storage": true,
                                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                      "spec": {"type": "object", "properties": {"size": {"type": "integer", "maximum": 5}}}}}}}]}}
            """
        #expect(try run("/usr/bin/kubectl", ["--kubeconfig", first.dataDir + "/admin.kubeconfig", "--server", first.endpoint,
                                             "apply", "-f", "-"], stdin: crd).status == 0)
        #expect(try first.kubectl(["wait", "--for=condition=Established", "crd/gizmos.example.com", "--timeout=30s"]).status == 0)
        let gizmo = #"{"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g1"}, "spec": {"size": 3}}"#
        let created = try run("/usr/bin/kubectl", ["--kubeconfig", first.dataDir + "/admin.kubeconfig", "--server", cluster.members[1].endpoint,
                                                   "create", "-f", "-"], stdin: gizmo)
        #expect(created.status == 0, "\(created.stderr)")
        let tooBig = try run("/usr/bin/kubectl", ["--kubeconfig", first.dataDir + "/admin.kubeconfig", "--server", cluster.members[2].endpoint,
                                                  "create", "-f", "-"], stdin: gizmo.replacingOccurrences(of: "\"g1\"", with: "\"g2\"")
                                                      .replacingOccurrences(of: "3}", with: "9}"))
        #expect(tooBig.stderr.contains("spec.size in body should be less than or equal to 5"), "\(tooBig.stderr)")
        let read = try cluster.members[2].kubectl(["get", "gizmo", "g1", "-o", "jsonpath={.spec.size}"])
        #expect(read.stdout == "3", "\(read.stdout)\(read.stderr)")

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
