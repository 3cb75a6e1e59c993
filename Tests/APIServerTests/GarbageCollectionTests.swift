import Foundation
import TestSupport
import Testing

/// The garbage collector and propagation policies, driven by Python's `kubernetes` client
/// and kubectl against a real `skiff server`.
@Suite(.timeLimit(.minutes(10))) struct GarbageCollectionTests {
    @Test func propagationPoliciesWithThePythonClient() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/garbage_collection.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig], timeout: 300)
            #expect(result.status == 0 && result.stdout.hasSuffix("OK\n"), "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
        }
    }

    @Test func kubectlCascadeOrphanKeepsDependents() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let owner = try server.kubectl(Kubectl.v132, ["create", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"])
            let uid = owner.stdout
            for name in ["a", "b"] {
                let manifest = """
                    {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\(name)","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"\(uid)"}]}}
                    """
                #expect(try server.kubectl(Kubectl.v132, ["create", "-f", "-"], stdin: manifest).status == 0)
            }
            let deleted = try server.kubectl(Kubectl.v132, ["delete", "configmap", "owner", "--cascade=orphan"])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            // The owner goes just after its dependents are orphaned: wait for both.
            var refs = "?", ownerGone = false
            for _ in 0..<50 where !(refs.isEmpty && ownerGone) {
                refs = try server.kubectl(Kubectl.v132, ["get", "configmap", "a", "b", "-o", "jsonpath={.items[*].metadata.ownerReferences}"]).stdout
                ownerGone = try server.kubectl(Kubectl.v132, ["get", "configmap", "owner", "--ignore-not-found", "-o", "name"]).stdout.isEmpty
                if !(refs.isEmpty && ownerGone) { try await Task.sleep(for: .seconds(0.1)) }
            }
            #expect(refs.isEmpty, "orphaned dependents keep no owner reference: \(refs)")
            #expect(ownerGone, "the orphaning owner is deleted")

            // Default cascade (background): dependents follow their owner.
            let owner2 = try server.kubectl(Kubectl.v132, ["create", "configmap", "owner2", "-o", "jsonpath={.metadata.uid}"]).stdout
            let manifest = """
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner2","uid":"\(owner2)"}]}}
                """
            #expect(try server.kubectl(Kubectl.v132, ["create", "-f", "-"], stdin: manifest).status == 0)
            #expect(try server.kubectl(Kubectl.v132, ["delete", "configmap", "owner2", "--wait"]).status == 0)
            var gone = false
            for _ in 0..<100 where !gone {
                gone = try server.kubectl(Kubectl.v132, ["get", "configmap", "c", "--ignore-not-found", "-o", "name"]).stdout.isEmpty
                if !gone { try await Task.sleep(for: .seconds(0.1)) }
            }
            #expect(gone, "a background-deleted owner's dependent is collected")
        }
    }
}
