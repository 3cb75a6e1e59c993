import Foundation
import TestSupport
import Testing

/// `--audit-log-path` with a policy file in kube-apiserver's format.
@Suite(.timeLimit(.minutes(10))) struct AuditLogTests {
    @Test func everyAuditedRequestIsOneLineAtItsPolicyLevel() async throws {
        try await offPool {
            let dir = NSTemporaryDirectory() + "skiff-audit-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let policy = """
                apiVersion: audit.k8s.io/v1
                kind: Policy
                rules:
                - level: None
                  resources:
                  - group: ""
                    resources: ["secrets"]
                - level: RequestResponse
                  resources:
                  - group: ""
                    resources: ["configmaps"]
                - level: Metadata
                """
            try policy.write(toFile: dir + "/policy.yaml", atomically: true, encoding: .utf8)
            let server = try SkiffServer(extraArguments: ["--audit-log-path", dir + "/audit.log", "--audit-policy-file", dir + "/policy.yaml"])
            defer { server.destroy() }
            for i in 0..<3 { #expect(try server.kubectl(Kubectl.v132, ["create", "configmap", "audited-\(i)"]).status == 0) }
            #expect(try server.kubectl(Kubectl.v132, ["create", "secret", "generic", "hidden"]).status == 0)
            #expect(try server.kubectl(Kubectl.v132, ["get", "namespaces"]).status == 0)
            #expect(try server.kubectl(Kubectl.v132, ["get", "configmap", "missing"]).status != 0)

            let lines = try String(contentsOfFile: dir + "/audit.log", encoding: .utf8).split(separator: "\n")
            let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(events.count == lines.count && !events.isEmpty, "every line is one JSON event")
            func ref(_ e: [String: Any]) -> [String: Any] { e["objectRef"] as? [String: Any] ?? [:] }
            func user(_ e: [String: Any]) -> String? { (e["user"] as? [String: Any])?["username"] as? String }
            let configMapCreates = events.filter { $0["verb"] as? String == "create" && ref($0)["resource"] as? String == "configmaps" }
            let creates = configMapCreates.filter { user($0) == "admin" }
            #expect(creates.count == 3, "one line per create: \(creates.count)")
            // The server's own loops write through the API too, under their own names.
            let rootCA = configMapCreates.filter { user($0) == "system:skiff:serviceaccount-controller" }
            #expect(rootCA.contains { ref($0)["name"] as? String == "kube-root-ca.crt" && ref($0)["namespace"] as? String == "default" },
                    "the root CA publisher's create is audited: \(configMapCreates.map { user($0) ?? "" })")
            let first = try #require(creates.first)
            #expect(first["level"] as? String == "RequestResponse" && first["kind"] as? String == "Event")
            #expect((first["user"] as? [String: Any])?["username"] as? String == "admin")
            #expect(((first["requestObject"] as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String == "audited-0")
            #expect((first["responseObject"] as? [String: Any])?["kind"] as? String == "ConfigMap")
            #expect((first["responseStatus"] as? [String: Any])?["code"] as? Int == 201)
            // The client's address (it was "IPv4"), and the request URI with its query.
            #expect(first["sourceIPs"] as? [String] == ["127.0.0.1"], "\(first["sourceIPs"] ?? "")")
            #expect((first["requestURI"] as? String)?.hasPrefix("/api/v1/namespaces/default/configmaps?") == true, "\(first["requestURI"] ?? "")")
            #expect(!events.contains { ref($0)["resource"] as? String == "secrets" }, "secrets are not audited (level None)")
            let list = try #require(events.first { $0["verb"] as? String == "list" && ref($0)["resource"] as? String == "namespaces" })
            #expect(list["level"] as? String == "Metadata" && list["responseObject"] == nil && list["requestObject"] == nil)
            let missing = try #require(events.first { $0["verb"] as? String == "get" && ref($0)["name"] as? String == "missing" })
            #expect((missing["responseStatus"] as? [String: Any])?["code"] as? Int == 404)
        }
    }

    @Test func aPolicyWithoutALogIsRefused() async throws {
        try await offPool {
            let result = try run(try builtProduct("skiff"), ["server", "--audit-policy-file", "/nonexistent.yaml"])
            #expect(result.status != 0 && result.stderr.contains("--audit-log-path"), "\(result.stderr)")
        }
    }
}
