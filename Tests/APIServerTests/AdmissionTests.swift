import Foundation
import TestSupport
import Testing

/// The built-in admission plugins against a real `skiff server`: ResourceQuota, LimitRanger,
/// PodSecurity and ServiceAccount, with kubectl and Python's client.
@Suite(.serialized, .timeLimit(.minutes(10))) struct AdmissionTests {
    func kubectl(_ server: SkiffServer, _ arguments: [String], stdin: String? = nil) throws -> CommandOutput {
        try server.kubectl(Kubectl.v137, arguments, stdin: stdin)
    }

    /// Waits until `condition` holds for the output of a kubectl command (up to 10 s).
    func eventually(_ server: SkiffServer, _ arguments: [String], _ condition: (String) -> Bool) throws -> String {
        var output = ""
        for _ in 0..<100 {
            output = try kubectl(server, arguments).stdout
            if condition(output) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return output
    }

    /// A quota of ConfigMaps holds under 20 concurrent creates: exactly as many succeed as it
    /// has room for, the others get kube-apiserver's "exceeded quota" 403, `status.used` is
    /// right, and deleting objects frees room again.
    @Test func resourceQuotaHoldsUnderConcurrentCreates() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["create", "namespace", "q"]).status == 0)
            // Every namespace holds the kube-root-ca.crt ConfigMap: 6 leaves room for 5 more.
            _ = try eventually(server, ["get", "configmap", "kube-root-ca.crt", "-n", "q", "-o", "name"]) { !$0.isEmpty }
            #expect(try kubectl(server, ["create", "quota", "five", "--hard=configmaps=6,count/secrets=2", "-n", "q"]).status == 0)
            let status = try eventually(server, ["get", "quota", "five", "-n", "q", "-o", "jsonpath={.status.used.configmaps}"]) { $0 == "1" }
            #expect(status == "1", "the controller measures what exists")

            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/quota_race.py").path
            let race = try run(try which("python3"), [script, server.kubeconfig, "q", "20"], timeout: 120)
            #expect(race.status == 0, "\(race.stderr)")
            let lines = race.stdout.split(separator: "\n")
            #expect(lines.first == "5", "exactly 5 of 20 concurrent creates succeed: \(race.stdout)")
            #expect(lines.dropFirst().count == 15)
            for refusal in lines.dropFirst() {
                #expect(refusal.hasPrefix("403 ") && refusal.contains("exceeded quota: five, requested: configmaps=1, used: configmaps=6, limited: configmaps=6"),
                        "\(refusal)")
            }
            let names = try kubectl(server, ["get", "configmaps", "-n", "q", "-o", "name"]).stdout.split(separator: "\n")
            #expect(names.count == 6)
            #expect(try kubectl(server, ["get", "quota", "five", "-n", "q", "-o", "jsonpath={.status.used.configmaps}"]).stdout == "6")

            // Deleting two frees room for two.
            let doomed = names.filter { $0.contains("race-") }.prefix(2).map(String.init)
            #expect(try kubectl(server, ["delete", "-n", "q"] + doomed).status == 0)
            let freed = try eventually(server, ["get", "quota", "five", "-n", "q", "-o", "jsonpath={.status.used.configmaps}"]) { $0 == "4" }
            #expect(freed == "4")
            #expect(try kubectl(server, ["create", "configmap", "again-1", "-n", "q"]).status == 0)
            #expect(try kubectl(server, ["create", "configmap", "again-2", "-n", "q"]).status == 0)
            let full = try kubectl(server, ["create", "configmap", "again-3", "-n", "q"])
            #expect(full.stderr.contains(#"configmaps "again-3" is forbidden: exceeded quota: five"#), "\(full.stderr)")

            // count/<resource> keys limit any type.
            #expect(try kubectl(server, ["create", "secret", "generic", "s1", "-n", "q"]).status == 0)
            #expect(try kubectl(server, ["create", "secret", "generic", "s2", "-n", "q"]).status == 0)
            let third = try kubectl(server, ["create", "secret", "generic", "s3", "-n", "q"])
            #expect(third.stderr.contains("exceeded quota: five, requested: count/secrets=1, used: count/secrets=2, limited: count/secrets=2"),
                    "\(third.stderr)")
        }
    }

    /// LimitRange defaults land in new pods; limits beyond `max` are refused; a compute quota
    /// needs requests, which the LimitRange supplies, and counts them.
    @Test func limitRangeDefaultsAndComputeQuota() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["create", "namespace", "lr"]).status == 0)
            let quota = try kubectl(server, ["create", "quota", "compute", "--hard=requests.cpu=1,limits.memory=1Gi,pods=10", "-n", "lr"])
            #expect(quota.status == 0)
            let bare = try kubectl(server, ["run", "bare", "--image=nginx", "-n", "lr"])
            #expect(bare.stderr.contains(#"pods "bare" is forbidden: failed quota: compute: must specify limits.memory,requests.cpu"#), "\(bare.stderr)")

            #expect(try kubectl(server, ["apply", "-n", "lr", "-f", "-"], stdin: """
                {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
                 "spec": {"limits": [{"type": "Container",
                                      "default": {"cpu": "500m", "memory": "256Mi"},
                                      "defaultRequest": {"cpu": "100m"},
                                      "max": {"cpu": "2", "memory": "1Gi"}}]}}
                """).status == 0)
            #expect(try kubectl(server, ["run", "web", "--image=nginx", "-n", "lr"]).status == 0)
            let pod = try parseJSON(try kubectl(server, ["get", "pod", "web", "-n", "lr", "-o", "json"]).stdout)
            let containers = (pod["spec"] as? [String: Any])?["containers"] as? [[String: Any]] ?? []
            let resources = containers.first?["resources"] as? [String: [String: String]] ?? [:]
            #expect(resources["limits"] == ["cpu": "500m", "memory": "256Mi"], "\(resources)")
            #expect(resources["requests"] == ["cpu": "100m", "memory": "256Mi"], "\(resources)")
            let annotation = ((pod["metadata"] as? [String: Any])?["annotations"] as? [String: String])?["kubernetes.io/limit-ranger"] ?? ""
            #expect(annotation == "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web", "\(annotation)")
            let used = try eventually(server, ["get", "quota", "compute", "-n", "lr", "-o", "jsonpath={.status.used}"]) { $0.contains("100m") }
            #expect(used.contains(#""requests.cpu":"100m""#) && used.contains(#""limits.memory":"256Mi""#) && used.contains(#""pods":"1""#), "\(used)")

            let big = try kubectl(server, ["apply", "-n", "lr", "-f", "-"], stdin: """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
                 "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "3", "memory": "2Gi"}}}]}}
                """)
            #expect(big.stderr.contains(#"pods "big" is forbidden: [maximum cpu usage per Container is 2, but limit is 3, maximum memory usage per Container is 1Gi, but limit is 2Gi]"#),
                    "\(big.stderr)")
            // Four more small pods pass the cpu quota (100m each); a large request does not.
            let greedy = try kubectl(server, ["apply", "-n", "lr", "-f", "-"], stdin: """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "greedy"},
                 "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}]}}
                """)
            #expect(greedy.stderr.contains("exceeded quota: compute, requested: requests.cpu=1, used: requests.cpu=100m, limited: requests.cpu=1"),
                    "\(greedy.stderr)")
        }
    }

    /// Scoped quotas count only the pods their scopes select; pods get their QoS class.
    @Test func quotaScopesAndQoSClasses() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["create", "namespace", "scoped"]).status == 0)
            for (name, scope) in [("best", "BestEffort"), ("not-best", "NotBestEffort"), ("terminating", "Terminating")] {
                #expect(try kubectl(server, ["create", "quota", name, "--hard=pods=5", "--scopes=\(scope)", "-n", "scoped"]).status == 0)
            }
            func used(_ quota: String, _ expected: String) throws -> String {
                try eventually(server, ["get", "quota", quota, "-n", "scoped", "-o", "jsonpath={.status.used.pods}"]) { $0 == expected }
            }
            #expect(try kubectl(server, ["run", "plain", "--image=nginx", "-n", "scoped"]).status == 0)
            #expect(try kubectl(server, ["get", "pod", "plain", "-n", "scoped", "-o", "jsonpath={.status.qosClass}"]).stdout == "BestEffort")
            #expect(try used("best", "1") == "1")
            #expect(try used("not-best", "0") == "0")

            #expect(try kubectl(server, ["apply", "-n", "scoped", "-f", "-"], stdin: """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sized"},
                 "spec": {"activeDeadlineSeconds": 60,
                          "containers": [{"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}
                """).status == 0)
            let sized = try parseJSON(try kubectl(server, ["get", "pod", "sized", "-n", "scoped", "-o", "json"]).stdout)
            #expect((sized["status"] as? [String: Any])?["qosClass"] as? String == "Guaranteed", "requests default to limits")
            #expect(try used("not-best", "1") == "1")
            #expect(try used("terminating", "1") == "1")
            #expect(try used("best", "1") == "1")

            #expect(try kubectl(server, ["delete", "pod", "plain", "-n", "scoped"]).status == 0)
            #expect(try used("best", "0") == "0", "deleting the pod releases its usage")
        }
    }

    static let restrictedPod = """
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "locked"},
         "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                  "containers": [{"name": "c", "image": "nginx",
                                  "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}}
        """

    /// A namespace enforcing `restricted` refuses a plain pod with every reason and admits a
    /// compliant one; `warn` turns into kubectl warnings; workloads are warned about, not refused.
    @Test func podSecurityLevels() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["create", "namespace", "secure"]).status == 0)
            #expect(try kubectl(server, ["label", "namespace", "secure", "pod-security.kubernetes.io/enforce=restricted",
                                         "pod-security.kubernetes.io/warn=restricted"]).status == 0)
            let plain = try kubectl(server, ["run", "plain", "--image=nginx", "-n", "secure"])
            #expect(plain.status != 0)
            #expect(plain.stderr.contains(#"pods "plain" is forbidden: violates PodSecurity "restricted:latest": "#
                                          + #"allowPrivilegeEscalation != false (container "plain" must set securityContext.allowPrivilegeEscalation=false), "#
                                          + #"unrestricted capabilities (container "plain" must set securityContext.capabilities.drop=["ALL"]), "#
                                          + #"runAsNonRoot != true (pod or container "plain" must set securityContext.runAsNonRoot=true), "#
                                          + #"seccompProfile (pod or container "plain" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#),
                    "\(plain.stderr)")
            let locked = try kubectl(server, ["apply", "-n", "secure", "-f", "-"], stdin: Self.restrictedPod)
            #expect(locked.status == 0, "\(locked.stderr)")
            #expect(!locked.stderr.contains("Warning"), "\(locked.stderr)")

            let privileged = """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"},
                 "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}}
                """
            let refused = try kubectl(server, ["apply", "-n", "secure", "-f", "-"], stdin: privileged)
            #expect(refused.stderr.contains(#"host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)"#),
                    "\(refused.stderr)")

            #expect(try kubectl(server, ["create", "namespace", "lenient"]).status == 0)
            #expect(try kubectl(server, ["label", "namespace", "lenient", "pod-security.kubernetes.io/warn=baseline"]).status == 0)
            let warned = try kubectl(server, ["apply", "-n", "lenient", "-f", "-"], stdin: privileged)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(warned.stderr.contains(#"Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true), privileged"#),
                    "\(warned.stderr)")

            let deployment = try kubectl(server, ["create", "deployment", "web", "--image=nginx", "-n", "secure"])
            #expect(deployment.status == 0, "workloads are not refused: \(deployment.stderr)")
            #expect(deployment.stderr.contains(#"Warning: deployment "web" would violate PodSecurity "restricted:latest""#), "\(deployment.stderr)")
        }
    }

    /// The `audit` level's violations go into the request's audit event.
    @Test func podSecurityAuditAnnotations() async throws {
        try await offPool {
            let log = NSTemporaryDirectory() + "skiff-psa-audit-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: log) }
            let server = try SkiffServer(extraArguments: ["--audit-log-path", log])
            defer { server.destroy() }
            #expect(try kubectl(server, ["create", "namespace", "watched"]).status == 0)
            #expect(try kubectl(server, ["label", "namespace", "watched", "pod-security.kubernetes.io/audit=restricted"]).status == 0)
            let created = try kubectl(server, ["run", "plain", "--image=nginx", "-n", "watched"])
            #expect(created.status == 0 && !created.stderr.contains("Warning"), "\(created.stderr)")
            let events = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { try? parseJSON(String($0)) }
            let create = events.first { ($0["verb"] as? String) == "create" && ($0["requestURI"] as? String)?.split(separator: "?").first?.hasSuffix("/namespaces/watched/pods") == true }
            let annotation = (create?["annotations"] as? [String: String])?["pod-security.kubernetes.io/audit-violations"] ?? ""
            #expect(annotation.hasPrefix(#"would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false"#), "\(annotation)")
        }
    }

    /// New pods run as `default` with the projected API token mounted, unless automounting is
    /// off; a pod naming a missing account is refused.
    @Test func serviceAccountAdmission() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["run", "web", "--image=nginx"]).status == 0)
            let pod = try parseJSON(try kubectl(server, ["get", "pod", "web", "-o", "json"]).stdout)
            let spec = pod["spec"] as? [String: Any] ?? [:]
            #expect(spec["serviceAccountName"] as? String == "default")
            let volume = (spec["volumes"] as? [[String: Any]] ?? []).first { ($0["name"] as? String)?.hasPrefix("kube-api-access-") == true }
            let sources = ((volume?["projected"] as? [String: Any])?["sources"] as? [[String: Any]]) ?? []
            #expect(sources.contains { $0["serviceAccountToken"] != nil } && sources.contains { $0["configMap"] != nil }, "\(String(describing: volume))")
            let mounts = ((spec["containers"] as? [[String: Any]])?.first?["volumeMounts"] as? [[String: Any]]) ?? []
            #expect(mounts.contains { $0["mountPath"] as? String == "/var/run/secrets/kubernetes.io/serviceaccount" && $0["readOnly"] as? Bool == true })

            #expect(try kubectl(server, ["create", "serviceaccount", "quiet"]).status == 0)
            #expect(try kubectl(server, ["patch", "serviceaccount", "quiet", "-p", #"{"automountServiceAccountToken": false}"#]).status == 0)
            #expect(try kubectl(server, ["run", "silent", "--image=nginx", "--overrides", #"{"spec": {"serviceAccountName": "quiet"}}"#]).status == 0)
            let silent = try kubectl(server, ["get", "pod", "silent", "-o", "jsonpath={.spec.serviceAccountName} {.spec.volumes}"]).stdout
            #expect(silent == "quiet ", "\(silent)")

            let missing = try kubectl(server, ["run", "ghost", "--image=nginx", "--overrides", #"{"spec": {"serviceAccountName": "nobody"}}"#])
            #expect(missing.stderr.contains(#"pods "ghost" is forbidden: error looking up service account default/nobody: serviceaccount "nobody" not found"#),
                    "\(missing.stderr)")
        }
    }
}
