import APIServer
import Foundation
import TestSupport
import Testing

/// RBAC authorization (the default mode) with the real kubectl: users from a token file and
/// from client certificates signed by the cluster CA, bound to the default roles and to
/// their own.
@Suite(.serialized, .timeLimit(.minutes(10))) struct RBACTests {
    /// A server whose token file knows alice, bob and carol (no groups of their own), with the
    /// namespaces `team` and `other`.
    final class Cluster {
        private(set) var server: SkiffServer
        let tokenFile: String

        init() throws {
            tokenFile = NSTemporaryDirectory() + "skiff-rbac-tokens-" + UUID().uuidString
            try "alice-token,alice,1001\nbob-token,bob,1002\ncarol-token,carol,1003\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            server = try SkiffServer(extraArguments: ["--token-auth-file", tokenFile])
            for namespace in ["team", "other"] { try admin(["create", "namespace", namespace]) }
        }

        /// Stops the server and starts it again on the same data.
        func restart() throws {
            server.stop()
            server = try SkiffServer(extraArguments: ["--token-auth-file", tokenFile], dataDir: server.dataDir)
        }

        deinit {
            server.destroy()
            try? FileManager.default.removeItem(atPath: tokenFile)
        }

        /// kubectl as the admin (system:masters); the command must succeed.
        @discardableResult
        func admin(_ arguments: [String], stdin: String? = nil) throws -> CommandOutput {
            let result = try server.kubectl(Kubectl.v137, arguments, stdin: stdin)
            #expect(result.status == 0, "kubectl \(arguments.joined(separator: " ")): \(result.stderr)")
            return result
        }

        /// kubectl as a token user, without the admin kubeconfig.
        func user(_ name: String, _ arguments: [String], kubectl: String = Kubectl.v137, stdin: String? = nil) throws -> CommandOutput {
            try run(kubectl, ["--kubeconfig", "/dev/null", "--server", server.url, "--certificate-authority", server.dataDir + "/pki/ca.crt",
                              "--token", name + "-token"] + arguments, stdin: stdin)
        }
    }

    /// A user bound to `view` in one namespace can read there, not elsewhere, and cannot write;
    /// the refusal is kube-apiserver's 403 wording.
    @Test(arguments: [Kubectl.v132, Kubectl.v137])
    func viewInOneNamespace(kubectl: String) async throws {
        try await offPool {
            let cluster = try Cluster()
            try cluster.admin(["create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team"])
            try cluster.admin(["run", "web", "--image=nginx", "-n", "team"])

            let list = try cluster.user("alice", ["get", "pods", "-n", "team", "-o", "name"], kubectl: kubectl)
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout == "pod/web\n")
            let elsewhere = try cluster.user("alice", ["get", "pods", "-n", "other"], kubectl: kubectl)
            #expect(elsewhere.status != 0)
            #expect(elsewhere.stderr.contains(#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "other""#),
                    "\(elsewhere.stderr)")
            let create = try cluster.user("alice", ["create", "configmap", "c", "-n", "team"], kubectl: kubectl)
            #expect(create.stderr.contains(#"configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "team""#),
                    "\(create.stderr)")
            let secrets = try cluster.user("alice", ["get", "secrets", "-n", "team"], kubectl: kubectl)
            #expect(secrets.stderr.contains("cannot list resource \"secrets\""), "view does not read secrets: \(secrets.stderr)")
            let deployments = try cluster.user("alice", ["get", "deployments.apps", "-n", "team"], kubectl: kubectl)
            #expect(deployments.status == 0, "view aggregates the apps rules: \(deployments.stderr)")
            let nodes = try cluster.user("alice", ["get", "nodes"], kubectl: kubectl)
            #expect(nodes.stderr.contains(#"nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope"#),
                    "\(nodes.stderr)")
            // Taking the binding away takes the permission away.
            try cluster.admin(["delete", "rolebinding", "alice-view", "-n", "team"])
            #expect(try cluster.user("alice", ["get", "pods", "-n", "team"], kubectl: kubectl).status != 0)
        }
    }

    /// `kubectl auth can-i` for 20 questions, answered from the bindings.
    @Test func canIAnswersFromTheBindings() async throws {
        try await offPool {
            let cluster = try Cluster()
            try cluster.admin(["create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team"])
            try cluster.admin(["create", "role", "cm-writer", "--verb=create,update,get", "--resource=configmaps", "-n", "team"])
            try cluster.admin(["create", "role", "one-secret", "--verb=get", "--resource=secrets", "--resource-name=token", "-n", "team"])
            try cluster.admin(["create", "rolebinding", "bob-cm", "--role=cm-writer", "--user=bob", "-n", "team"])
            try cluster.admin(["create", "rolebinding", "bob-secret", "--role=one-secret", "--user=bob", "-n", "team"])
            try cluster.admin(["create", "clusterrole", "node-reader", "--verb=get,list", "--resource=nodes,deployments.apps/scale"])
            try cluster.admin(["create", "clusterrolebinding", "bob-nodes", "--clusterrole=node-reader", "--user=bob"])
            try cluster.admin(["create", "clusterrole", "metrics-reader", "--verb=get", "--non-resource-url=/metrics", "--non-resource-url=/logs/*"])
            try cluster.admin(["create", "clusterrolebinding", "bob-metrics", "--clusterrole=metrics-reader", "--user=bob"])

            let cases: [(user: String, question: [String], yes: Bool)] = [
                ("alice", ["list", "pods", "-n", "team"], true),
                ("alice", ["watch", "pods", "-n", "team"], true),
                ("alice", ["get", "pods/log", "-n", "team"], true),
                ("alice", ["create", "pods", "-n", "team"], false),
                ("alice", ["delete", "pods", "-n", "team"], false),
                ("alice", ["get", "secrets", "-n", "team"], false),
                ("alice", ["list", "pods", "-n", "other"], false),
                ("alice", ["list", "pods", "--all-namespaces"], false),
                ("alice", ["list", "deployments.apps", "-n", "team"], true),
                ("alice", ["get", "/healthz"], true),
                ("alice", ["get", "/metrics"], false),
                ("alice", ["impersonate", "users"], false),
                ("bob", ["create", "configmaps", "-n", "team"], true),
                ("bob", ["delete", "configmaps", "-n", "team"], false),
                ("bob", ["get", "secrets/token", "-n", "team"], true),
                ("bob", ["get", "secrets/other", "-n", "team"], false),
                ("bob", ["list", "nodes"], true),
                ("bob", ["get", "deployments.apps", "--subresource=scale", "-n", "team"], true),
                ("bob", ["get", "/metrics"], true),
                ("bob", ["get", "/logs/kube.log"], true),
                ("bob", ["post", "/metrics"], false),
                ("carol", ["list", "pods", "-n", "team"], false),
            ]
            for (user, question, yes) in cases {
                let answer = try cluster.user(user, ["auth", "can-i"] + question)
                #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (yes ? "yes" : "no"),
                        "\(user) can-i \(question.joined(separator: " ")): \(answer.stdout)\(answer.stderr)")
                #expect(answer.status == (yes ? 0 : 1))
            }
            // An admin asks on behalf of a user (SubjectAccessReview through --as).
            let asBob = try cluster.server.kubectl(Kubectl.v137, ["auth", "can-i", "create", "configmaps", "-n", "team", "--as", "bob"])
            #expect(asBob.stdout == "yes\n", "\(asBob.stdout)\(asBob.stderr)")

            // --list shows the rules (SelfSubjectRulesReview).
            let list = try cluster.user("bob", ["auth", "can-i", "--list", "-n", "team"])
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines.contains("configmaps [] [] [create update get]"), "\(list.stdout)")
            #expect(lines.contains("secrets [] [token] [get]"), "\(list.stdout)")
            #expect(lines.contains("nodes [] [] [get list]"), "\(list.stdout)")
            #expect(lines.contains("[/metrics] [] [get]"), "\(list.stdout)")
            #expect(lines.contains("selfsubjectaccessreviews.authorization.k8s.io [] [] [create]"), "\(list.stdout)")
            #expect(!list.stdout.contains("pods"), "\(list.stdout)")
        }
    }

    /// `--as` works for admins and for users granted `impersonate`, and is refused for others.
    @Test func impersonationNeedsTheImpersonateVerb() async throws {
        try await offPool {
            let cluster = try Cluster()
            try cluster.admin(["create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team"])
            let asAlice = try cluster.server.kubectl(Kubectl.v137, ["get", "pods", "-n", "team", "--as", "alice"])
            #expect(asAlice.status == 0, "\(asAlice.stderr)")
            let refusedForAdminAsAlice = try cluster.server.kubectl(Kubectl.v137, ["get", "pods", "-n", "other", "--as", "alice"])
            #expect(refusedForAdminAsAlice.stderr.contains(#"User "alice" cannot list resource "pods""#), "\(refusedForAdminAsAlice.stderr)")

            #expect(try cluster.user("bob", ["get", "pods", "-n", "team", "--as", "alice"]).status != 0)
            // (kubectl's discovery hides the message; a raw request shows it.)
            let bobAsAlice = try cluster.user("bob", ["get", "--raw", "/api/v1/namespaces/team/pods", "--as", "alice"])
            #expect(bobAsAlice.stderr.contains(#"users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope"#),
                    "\(bobAsAlice.stderr)")
            try cluster.admin(["create", "clusterrole", "impersonate-alice", "--verb=impersonate", "--resource=users", "--resource-name=alice"])
            try cluster.admin(["create", "clusterrolebinding", "bob-impersonates", "--clusterrole=impersonate-alice", "--user=bob"])
            let allowed = try cluster.user("bob", ["get", "pods", "-n", "team", "--as", "alice"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            let notCarol = try cluster.user("bob", ["get", "--raw", "/api/v1/namespaces/team/pods", "--as", "carol"])
            #expect(notCarol.stderr.contains(#"users "carol" is forbidden"#), "\(notCarol.stderr)")
        }
    }

    /// Writing a role or binding that grants more than the writer holds is refused unless the
    /// writer has `escalate` (roles) or `bind` (bindings).
    @Test func escalationIsRefused() async throws {
        try await offPool {
            let cluster = try Cluster()
            try cluster.admin(["create", "role", "rbac-writer", "--verb=create,update,get,list", "--resource=roles,rolebindings",
                               "-n", "team"])
            try cluster.admin(["create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", "team"])
            try cluster.admin(["create", "rolebinding", "carol-rbac", "--role=rbac-writer", "--user=carol", "-n", "team"])
            try cluster.admin(["create", "rolebinding", "carol-pods", "--role=pod-reader", "--user=carol", "-n", "team"])

            let held = try cluster.user("carol", ["create", "role", "my-pods", "--verb=get", "--resource=pods", "-n", "team"])
            #expect(held.status == 0, "a role within what carol holds: \(held.stderr)")
            let more = try cluster.user("carol", ["create", "role", "my-secrets", "--verb=get", "--resource=secrets", "-n", "team"])
            #expect(more.status != 0)
            #expect(more.stderr.contains(#"roles.rbac.authorization.k8s.io "my-secrets" is forbidden: user "carol""#), "\(more.stderr)")
            #expect(more.stderr.contains("is attempting to grant RBAC permissions not currently held"), "\(more.stderr)")
            #expect(more.stderr.contains(#"{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}"#), "\(more.stderr)")

            let toAdmin = try cluster.user("carol", ["create", "rolebinding", "carol-admin", "--clusterrole=admin", "--user=carol", "-n", "team"])
            #expect(toAdmin.status != 0)
            #expect(toAdmin.stderr.contains("is attempting to grant RBAC permissions not currently held"), "\(toAdmin.stderr)")
            let toHeld = try cluster.user("carol", ["create", "rolebinding", "alice-pods", "--role=pod-reader", "--user=alice", "-n", "team"])
            #expect(toHeld.status == 0, "binding a role carol holds: \(toHeld.stderr)")
            let missing = try cluster.user("carol", ["create", "rolebinding", "x", "--role=not-yet", "--user=carol", "-n", "team"])
            #expect(missing.stderr.contains(#"roles.rbac.authorization.k8s.io "not-yet" not found"#), "\(missing.stderr)")

            // `bind` on a role lets carol bind it without holding it; `escalate` lets her write any role.
            try cluster.admin(["create", "role", "binder", "--verb=bind", "--resource=clusterroles", "--resource-name=view", "-n", "team"])
            try cluster.admin(["create", "rolebinding", "carol-binder", "--role=binder", "--user=carol", "-n", "team"])
            let bound = try cluster.user("carol", ["create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team"])
            #expect(bound.status == 0, "\(bound.stderr)")
            #expect(try cluster.user("alice", ["get", "deployments.apps", "-n", "team"]).status == 0)
            try cluster.admin(["create", "role", "escalator", "--verb=escalate", "--resource=roles", "-n", "team"])
            try cluster.admin(["create", "rolebinding", "carol-escalator", "--role=escalator", "--user=carol", "-n", "team"])
            let escalated = try cluster.user("carol", ["create", "role", "my-secrets", "--verb=get", "--resource=secrets", "-n", "team"])
            #expect(escalated.status == 0, "\(escalated.stderr)")

            // A binding's roleRef cannot change.
            let patch = try cluster.admin(["get", "rolebinding", "alice-pods", "-n", "team", "-o", "json"]).stdout
            let changed = patch.replacingOccurrences(of: "\"pod-reader\"", with: "\"my-pods\"")
            let replace = try cluster.server.kubectl(Kubectl.v137, ["replace", "-f", "-"], stdin: changed)
            #expect(replace.stderr.contains("cannot change roleRef"), "\(replace.stderr)")
        }
    }

    /// A user from a client certificate is authorized by its name and organizations (groups).
    @Test func clientCertificateUsersAreAuthorizedByGroup() async throws {
        try await offPool {
            let cluster = try Cluster()
            let pki = ClusterPKI(directory: cluster.server.dataDir + "/pki")
            let (certificate, key) = try pki.issueClientCertificate(user: "dave", groups: ["auditors"])
            let base = NSTemporaryDirectory() + "skiff-dave-" + UUID().uuidString
            try certificate.write(toFile: base + ".crt", atomically: true, encoding: .utf8)
            try key.write(toFile: base + ".key", atomically: true, encoding: .utf8)
            defer { for suffix in [".crt", ".key"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
            func dave(_ arguments: [String]) throws -> CommandOutput {
                try run(Kubectl.v137, ["--kubeconfig", "/dev/null", "--server", cluster.server.url,
                                       "--certificate-authority", cluster.server.dataDir + "/pki/ca.crt",
                                       "--client-certificate", base + ".crt", "--client-key", base + ".key"] + arguments)
            }
            let before = try dave(["get", "configmaps", "-n", "team"])
            #expect(before.stderr.contains(#"User "dave" cannot list resource "configmaps""#), "\(before.stderr)")
            try cluster.admin(["create", "rolebinding", "auditors-view", "--clusterrole=view", "--group=auditors", "-n", "team"])
            let after = try dave(["get", "configmaps", "-n", "team", "-o", "name"])
            #expect(after.status == 0, "\(after.stderr)")
            #expect(after.stdout.contains("configmap/kube-root-ca.crt"))
            #expect(try dave(["get", "configmaps", "-n", "other"]).status != 0)
            let whoami = try dave(["auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"])
            #expect(whoami.stdout == #"["auditors","system:authenticated"]"#, "\(whoami.stdout)\(whoami.stderr)")
        }
    }

    /// The default roles exist with their aggregation; a restart puts back what was taken from
    /// them and keeps what users added; `autoupdate: "false"` leaves a role alone.
    @Test func defaultRolesAreReconciledWithoutClobbering() async throws {
        try await offPool {
            let cluster = try Cluster()
            for role in ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user", "system:public-info-viewer",
                         "system:service-account-issuer-discovery"] {
                try cluster.admin(["get", "clusterrole", role])
            }
            let view = try parseJSON(try cluster.admin(["get", "clusterrole", "view", "-o", "json"]).stdout)
            #expect(((view["rules"] as? [[String: Any]]) ?? []).contains { ($0["resources"] as? [String] ?? []).contains("pods") })
            let edit = try parseJSON(try cluster.admin(["get", "clusterrole", "edit", "-o", "json"]).stdout)
            let editRules = (edit["rules"] as? [[String: Any]]) ?? []
            #expect(editRules.contains { ($0["resources"] as? [String] ?? []).contains("secrets") && ($0["verbs"] as? [String] ?? []).contains("create") })
            #expect(editRules.contains { ($0["resources"] as? [String] ?? []).contains("pods") && ($0["verbs"] as? [String] ?? []).contains("watch") },
                    "edit aggregates view")

            // A new role labelled to aggregate into view shows up in view (and so in edit and admin).
            try cluster.admin(["apply", "-f", "-"], stdin: """
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                 "metadata": {"name": "widgets-view", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
                 "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}]}
                """)
            var aggregated = false
            for _ in 0..<50 where !aggregated {
                aggregated = try cluster.admin(["get", "clusterrole", "admin", "-o", "json"]).stdout.contains("widgets")
                if !aggregated { try await Task.sleep(for: .seconds(0.1)) }
            }
            #expect(aggregated, "admin aggregates view's new rule")

            // Users change the defaults.
            try cluster.admin(["patch", "clusterrole", "system:basic-user", "--type=json", "-p",
                               #"[{"op": "replace", "path": "/rules", "value": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]}]"#])
            try cluster.admin(["patch", "clusterrole", "system:public-info-viewer", "--type=merge", "-p",
                               #"{"metadata": {"annotations": {"rbac.authorization.kubernetes.io/autoupdate": "false"}}, "rules": []}"#])
            try cluster.admin(["patch", "clusterrolebinding", "system:discovery", "--type=merge", "-p",
                               #"{"subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}"#])
            try cluster.restart()

            let basic = try cluster.admin(["get", "clusterrole", "system:basic-user", "-o", "json"]).stdout
            #expect(basic.contains("selfsubjectaccessreviews") && basic.contains("configmaps"), "restored and kept: \(basic)")
            let info = try parseJSON(try cluster.admin(["get", "clusterrole", "system:public-info-viewer", "-o", "json"]).stdout)
            #expect((info["rules"] as? [Any] ?? []).isEmpty, "autoupdate=false is left alone")
            let discovery = try cluster.admin(["get", "clusterrolebinding", "system:discovery", "-o", "json"]).stdout
            #expect(discovery.contains("system:authenticated") && discovery.contains("alice"), "\(discovery)")
        }
    }

    /// The same with Python's `kubernetes` client, with the access reviews.
    @Test func pythonClientIsAuthorizedByRBAC() async throws {
        try await offPool {
            let cluster = try Cluster()
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/rbac_client.py").path
            let result = try run(try which("python3"), [script, cluster.server.kubeconfig, cluster.server.url,
                                                        cluster.server.dataDir + "/pki/ca.crt", "alice-token", "alice"], timeout: 120)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }
}
