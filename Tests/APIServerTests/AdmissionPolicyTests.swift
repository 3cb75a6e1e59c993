import Foundation
import TestSupport
import Testing

/// ValidatingAdmissionPolicy with bindings, against a real `skiff server` with kubectl.
@Suite(.serialized, .timeLimit(.minutes(10))) struct AdmissionPolicyTests {
    func kubectl(_ server: SkiffServer, _ arguments: [String], stdin: String? = nil) throws -> CommandOutput {
        try server.kubectl(Kubectl.v137, arguments, stdin: stdin)
    }

    /// Runs a kubectl command until its stderr has `text` (policies take effect a moment after
    /// they are written), up to 5 s; returns the last result.
    func eventually(_ server: SkiffServer, _ arguments: [String], stdin: String? = nil, stderrHas text: String) throws -> CommandOutput {
        var result = try kubectl(server, arguments, stdin: stdin)
        for _ in 0..<50 where !result.stderr.contains(text) {
            Thread.sleep(forTimeInterval: 0.1)
            result = try kubectl(server, arguments, stdin: stdin)
        }
        return result
    }

    func apply(_ server: SkiffServer, _ json: String) throws {
        let result = try kubectl(server, ["apply", "-f", "-"], stdin: json)
        #expect(result.status == 0, "\(result.stderr)")
    }

    static func policy(_ name: String, validations: String, extra: String = "") -> String {
        """
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "\(name)"},
         "spec": {"failurePolicy": "Fail",
                  "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                          "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
                  \(extra)
                  "validations": \(validations)}}
        """
    }

    static func binding(_ name: String, policy: String, actions: String = #"["Deny"]"#, extra: String = "") -> String {
        """
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "\(name)"},
         "spec": {"policyName": "\(policy)", "validationActions": \(actions) \(extra)}}
        """
    }

    /// Deny, messages and message expressions, update rules with oldObject, and namespace
    /// selectors on the binding.
    @Test func policiesDenyWithTheirMessages() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            try apply(server, Self.policy("max-replicas", validations: """
                [{"expression": "object.spec.replicas <= 5"},
                 {"expression": "!object.metadata.name.startsWith('bad-')",
                  "messageExpression": "'name ' + object.metadata.name + ' is not allowed'", "reason": "Forbidden"},
                 {"expression": "request.operation != 'UPDATE' || object.spec.replicas >= oldObject.spec.replicas",
                  "message": "scaling down is not allowed"}]
                """))
            try apply(server, Self.binding("max-replicas-binding", policy: "max-replicas", extra: """
                , "matchResources": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}
                """))
            #expect(try kubectl(server, ["create", "namespace", "prod"]).status == 0)
            #expect(try kubectl(server, ["label", "namespace", "prod", "env=prod"]).status == 0)

            let big = try eventually(server, ["create", "deployment", "big", "--image=nginx", "--replicas=10", "-n", "prod"],
                                     stderrHas: "denied request")
            #expect(big.stderr.contains("ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request: failed expression: object.spec.replicas <= 5"),
                    "\(big.stderr)")
            let bigFromFile = try kubectl(server, ["create", "-n", "prod", "-f", "-"], stdin: """
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "big"},
                 "spec": {"replicas": 9, "selector": {"matchLabels": {"app": "big"}},
                          "template": {"metadata": {"labels": {"app": "big"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
                """)
            #expect(bigFromFile.stderr.contains(#"Deployment "big" is invalid: : ValidatingAdmissionPolicy 'max-replicas'"#),
                    "Invalid is a 422 with the message as a cause: \(bigFromFile.stderr)")
            let named = try kubectl(server, ["create", "deployment", "bad-name", "--image=nginx", "-n", "prod"])
            #expect(named.stderr.contains(#"deployments.apps "bad-name" is forbidden: ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request: name bad-name is not allowed"#),
                    "\(named.stderr)")
            let fine = try kubectl(server, ["create", "deployment", "web", "--image=nginx", "--replicas=3", "-n", "prod"])
            #expect(fine.status == 0, "\(fine.stderr)")
            let patchDown = try kubectl(server, ["patch", "deployment", "web", "-n", "prod", "-p", #"{"spec": {"replicas": 1}}"#])
            #expect(patchDown.stderr.contains("scaling down is not allowed"), "\(patchDown.stderr)")
            #expect(try kubectl(server, ["patch", "deployment", "web", "-n", "prod", "-p", #"{"spec": {"replicas": 4}}"#]).status == 0)

            // Outside the selected namespaces the binding does not apply.
            let elsewhere = try kubectl(server, ["create", "deployment", "big", "--image=nginx", "--replicas=10"])
            #expect(elsewhere.status == 0, "\(elsewhere.stderr)")

            // Deleting the binding lifts the policy.
            #expect(try kubectl(server, ["delete", "validatingadmissionpolicybinding", "max-replicas-binding"]).status == 0)
            var lifted = try kubectl(server, ["create", "deployment", "big", "--image=nginx", "--replicas=10", "-n", "prod"])
            for _ in 0..<50 where lifted.status != 0 {
                try await Task.sleep(for: .seconds(0.1))
                lifted = try kubectl(server, ["create", "deployment", "big", "--image=nginx", "--replicas=10", "-n", "prod"])
            }
            #expect(lifted.status == 0, "\(lifted.stderr)")
        }
    }

    /// Parameters from a ConfigMap, variables, Warn and Audit actions, and failurePolicy.
    @Test func paramsVariablesWarningsAndFailurePolicy() async throws {
        try await offPool {
            let log = NSTemporaryDirectory() + "skiff-vap-audit-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: log) }
            let server = try SkiffServer(extraArguments: ["--audit-log-path", log])
            defer { server.destroy() }
            #expect(try kubectl(server, ["create", "configmap", "limits", "--from-literal=maxReplicas=2", "-n", "kube-system"]).status == 0)
            try apply(server, Self.policy("param-limit", validations: """
                [{"expression": "variables.wanted <= int(params.data.maxReplicas)",
                  "messageExpression": "'at most ' + params.data.maxReplicas + ' replicas, not ' + string(variables.wanted)"}]
                """, extra: """
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "variables": [{"name": "wanted", "expression": "object.spec.replicas"}],
                """))
            try apply(server, Self.binding("param-limit-warn", policy: "param-limit", actions: #"["Warn", "Audit"]"#, extra: """
                , "paramRef": {"name": "limits", "namespace": "kube-system", "parameterNotFoundAction": "Deny"}
                """))
            let warned = try eventually(server, ["create", "deployment", "three", "--image=nginx", "--replicas=3", "--dry-run=server"],
                                        stderrHas: "Warning: Validation failed")
            #expect(try kubectl(server, ["create", "deployment", "three", "--image=nginx", "--replicas=3"]).status == 0)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(warned.stderr.contains("Warning: Validation failed for ValidatingAdmissionPolicy 'param-limit' with binding 'param-limit-warn': at most 2 replicas, not 3"),
                    "\(warned.stderr)")
            let events = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { try? parseJSON(String($0)) }
            let failure = events.compactMap { event -> String? in
                guard (event["verb"] as? String) == "create", (event["requestURI"] as? String)?.split(separator: "?").first?.hasSuffix("/deployments") == true else { return nil }
                return (event["annotations"] as? [String: String])?["validation.policy.admission.k8s.io/validation_failure"]
            }.last ?? ""
            #expect(failure.contains(#""policy":"param-limit""#) && failure.contains("at most 2 replicas"), "\(failure)")

            // The parameter changes, and so does the answer.
            #expect(try kubectl(server, ["patch", "configmap", "limits", "-n", "kube-system", "-p", #"{"data": {"maxReplicas": "5"}}"#]).status == 0)
            let quiet = try kubectl(server, ["create", "deployment", "four", "--image=nginx", "--replicas=4"])
            #expect(quiet.status == 0 && !quiet.stderr.contains("Warning"), "\(quiet.stderr)")

            // A missing parameter with parameterNotFoundAction Deny refuses.
            #expect(try kubectl(server, ["delete", "configmap", "limits", "-n", "kube-system"]).status == 0)
            let noParams = try kubectl(server, ["create", "deployment", "five", "--image=nginx"])
            #expect(noParams.stderr.contains("no params found"), "\(noParams.stderr)")
            #expect(try kubectl(server, ["delete", "validatingadmissionpolicybinding", "param-limit-warn"]).status == 0)

            // An expression that errors fails the request under Fail, not under Ignore.
            try apply(server, Self.policy("broken", validations: #"[{"expression": "object.spec.noSuchField > 1"}]"#))
            try apply(server, Self.binding("broken-binding", policy: "broken"))
            let failed = try eventually(server, ["create", "deployment", "six", "--image=nginx"], stderrHas: "resulted in error")
            #expect(failed.stderr.contains("expression 'object.spec.noSuchField > 1' resulted in error: no such key: noSuchField"), "\(failed.stderr)")
            #expect(try kubectl(server, ["patch", "validatingadmissionpolicy", "broken", "--type=merge", "-p",
                                         #"{"spec": {"failurePolicy": "Ignore"}}"#]).status == 0)
            var ignored = try kubectl(server, ["create", "deployment", "six", "--image=nginx"])
            for _ in 0..<50 where ignored.status != 0 {
                try await Task.sleep(for: .seconds(0.1))
                ignored = try kubectl(server, ["create", "deployment", "six", "--image=nginx"])
            }
            #expect(ignored.status == 0, "\(ignored.stderr)")
        }
    }
}
