import Foundation
import TestSupport
import Testing

/// CustomResourceDefinitions served by the engine, driven with the real kubectl.
@Suite(.serialized, .timeLimit(.minutes(10))) struct CustomResourceTests {
    func kubectl(_ server: SkiffServer, _ arguments: [String], stdin: String? = nil) throws -> CommandOutput {
        try server.kubectl(Kubectl.v137, arguments, stdin: stdin)
    }

    static let widgets = """
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "widgets.example.com"},
         "spec": {"group": "example.com", "scope": "Namespaced",
                  "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]},
                  "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                    "selectableFields": [{"jsonPath": ".spec.color"}],
                    "additionalPrinterColumns": [
                      {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                      {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                      {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\\"Ready\\")].status"}],
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                      "spec": {"type": "object", "required": ["color"],
                               "x-kubernetes-validations": [{"rule": "self.replicas <= self.maxReplicas", "message": "replicas may not exceed maxReplicas"},
                                                            {"rule": "self.color == oldSelf.color", "message": "color is immutable"}],
                               "properties": {
                        "color": {"type": "string", "enum": ["red", "green", "blue"]},
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                        "maxReplicas": {"type": "integer", "default": 10},
                        "size": {"x-kubernetes-int-or-string": true},
                        "owner": {"type": "string", "pattern": "^[a-z]+$", "nullable": true},
                        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                  "items": {"type": "object", "required": ["name"],
                                            "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                      "status": {"type": "object", "properties": {
                        "replicas": {"type": "integer"},
                        "conditions": {"type": "array", "items": {"type": "object", "properties": {
                          "type": {"type": "string"}, "status": {"type": "string"}}}}}}}}}}]}}
        """

    func widget(_ name: String, _ spec: String) -> String {
        #"{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "\#(name)"}, "spec": \#(spec)}"#
    }

    /// A definition is established and served: discovery, api-resources, short names and
    /// categories, printer columns, defaults, pruning, schema and CEL validation with the
    /// field named, status and scale subresources, field selectors, patch types, watch.
    @Test func definitionsServeValidatedObjects() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["apply", "-f", "-"], stdin: Self.widgets).status == 0)
            let wait = try kubectl(server, ["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"])
            #expect(wait.status == 0, "\(wait.stderr)")
            let resources = try kubectl(server, ["api-resources", "--api-group=example.com", "--no-headers"])
            #expect(resources.stdout.contains("widgets") && resources.stdout.contains("wd") && resources.stdout.contains("Widget"), "\(resources.stdout)")

            #expect(try kubectl(server, ["apply", "-f", "-"], stdin: widget("w1", #"{"color": "red", "replicas": 2, "size": "large", "tags": ["a"]}"#)).status == 0)
            let w1 = try parseJSON(try kubectl(server, ["get", "wd", "w1", "-o", "json"]).stdout)
            let spec = w1["spec"] as? [String: Any] ?? [:]
            #expect(spec["maxReplicas"] as? Int == 10, "defaults apply: \(spec)")
            #expect(spec["size"] as? String == "large")

            // Unknown fields are pruned (with a warning; Strict refuses them).
            let pruned = try kubectl(server, ["create", "--validate=warn", "-f", "-"],
                                     stdin: widget("w2", #"{"color": "blue", "bogus": 1, "extra": {"anything": {"goes": true}}}"#))
            #expect(pruned.status == 0, "\(pruned.stderr)")
            #expect(pruned.stderr.contains(#"unknown field "spec.bogus""#), "\(pruned.stderr)")
            let w2 = try kubectl(server, ["get", "widget", "w2", "-o", "jsonpath={.spec}"]).stdout
            #expect(!w2.contains("bogus") && w2.contains("goes"), "\(w2)")
            let strict = try kubectl(server, ["create", "-f", "-"], stdin: widget("w3", #"{"color": "blue", "bogus": 1}"#))
            #expect(strict.stderr.contains(#"unknown field "spec.bogus""#) && strict.status != 0, "\(strict.stderr)")

            // Schema violations are 422s naming the field.
            let cases: [(String, String)] = [
                (#"{"color": "purple"}"#, #"spec.color: Unsupported value: "purple": supported values: "red", "green", "blue""#),
                (#"{"replicas": 1}"#, "spec.color: Required value"),
                (#"{"color": "red", "replicas": "two"}"#, #"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "two""#),
                (#"{"color": "red", "replicas": -1}"#, "spec.replicas in body should be greater than or equal to 0"),
                (#"{"color": "red", "owner": "Bob"}"#, "spec.owner in body should match '^[a-z]+$'"),
                (#"{"color": "red", "replicas": 20}"#, #"spec: Invalid value: "object": replicas may not exceed maxReplicas"#),
                (#"{"color": "red", "tags": ["a", "a"]}"#, #"spec.tags[1]: Duplicate value: "a""#),
                (#"{"color": "red", "template": {"metadata": {}}}"#, "spec.template.apiVersion: Required value"),
                (#"{"color": "red", "size": true}"#, "spec.size in body must be of type integer or string"),
            ]
            for (index, (spec, message)) in cases.enumerated() {
                let refused = try kubectl(server, ["create", "-f", "-"], stdin: widget("bad-\(index)", spec))
                #expect(refused.status != 0)
                #expect(refused.stderr.contains(#"Widget "bad-\#(index)" is invalid"#), "\(spec): \(refused.stderr)")
                #expect(refused.stderr.contains(message), "\(spec): \(refused.stderr)")
            }
            // Nullable fields take null.
            #expect(try kubectl(server, ["create", "-f", "-"], stdin: widget("w4", #"{"color": "green", "owner": null}"#)).status == 0)

            // Transition rule: color cannot change; the table shows the printer columns.
            let recolor = try kubectl(server, ["patch", "widget", "w1", "--type=merge", "-p", #"{"spec": {"color": "blue"}}"#])
            #expect(recolor.stderr.contains("color is immutable"), "\(recolor.stderr)")
            let table = try kubectl(server, ["get", "widgets"])
            #expect(table.stdout.hasPrefix("NAME   COLOR   REPLICAS   READY"), "\(table.stdout)")
            #expect(table.stdout.contains("w1     red     2"), "\(table.stdout)")

            // Status and scale subresources.
            let status = try kubectl(server, ["patch", "widget", "w1", "--subresource=status", "--type=merge", "-p",
                                              #"{"status": {"replicas": 2, "conditions": [{"type": "Ready", "status": "True"}]}}"#])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(try kubectl(server, ["get", "widgets", "w1", "--no-headers"]).stdout.contains("True"))
            let ignoredStatus = try kubectl(server, ["patch", "widget", "w1", "--type=merge", "-p", #"{"status": {"replicas": 9}}"#])
            #expect(ignoredStatus.status == 0)
            #expect(try kubectl(server, ["get", "widget", "w1", "-o", "jsonpath={.status.replicas}"]).stdout == "2", "status only through /status")
            #expect(try kubectl(server, ["scale", "widget", "w1", "--replicas=4"]).status == 0)
            #expect(try kubectl(server, ["get", "widget", "w1", "-o", "jsonpath={.spec.replicas}"]).stdout == "4")
            let scale = try kubectl(server, ["get", "--raw", "/apis/example.com/v1/namespaces/default/widgets/w1/scale"]).stdout
            #expect(scale.contains(#""replicas":4"#) && scale.contains(#""kind":"Scale""#), "\(scale)")

            // Selectable fields, categories, server-side apply, strategic merge refused, delete.
            #expect(try kubectl(server, ["get", "widgets", "--field-selector", "spec.color=blue", "-o", "name"]).stdout == "widget.example.com/w2\n")
            #expect(try kubectl(server, ["get", "all", "-o", "name"]).stdout.contains("widget.example.com/w1"))
            let applied = try kubectl(server, ["apply", "--server-side", "--field-manager=tester", "-f", "-"],
                                      stdin: widget("w5", #"{"color": "green", "replicas": 3}"#))
            #expect(applied.status == 0, "\(applied.stderr)")
            // A map list merges entries by key across appliers.
            #expect(try kubectl(server, ["apply", "--server-side", "--field-manager=other", "-f", "-"],
                                stdin: widget("w5", #"{"color": "green", "ports": [{"name": "metrics", "port": 9090}]}"#)).status == 0)
            #expect(try kubectl(server, ["apply", "--server-side", "--field-manager=tester", "-f", "-"],
                                stdin: widget("w5", #"{"color": "green", "replicas": 3, "ports": [{"name": "http", "port": 80}]}"#)).status == 0)
            let ports = try kubectl(server, ["get", "widget", "w5", "-o", "jsonpath={.spec.ports[*].name}"]).stdout
            #expect(ports.split(separator: " ").sorted() == ["http", "metrics"], "\(ports)")
            let strategic = try kubectl(server, ["patch", "widget", "w5", "--type=strategic", "-p", #"{"spec": {"replicas": 1}}"#])
            #expect(strategic.stderr.contains("UnsupportedMediaType") || strategic.stderr.contains("unknown format"), "\(strategic.stderr)")
            #expect(try kubectl(server, ["patch", "widget", "w5", "--type=json", "-p", #"[{"op": "replace", "path": "/spec/replicas", "value": 5}]"#]).status == 0)

            // OpenAPI publishes the kind under kube-apiserver's definition name; kubectl explain reads it (v3).
            #expect(try kubectl(server, ["get", "--raw", "/openapi/v2"]).stdout.contains(#""com.example.v1.Widget""#))
            let explain = try kubectl(server, ["explain", "widget.spec"])
            #expect(explain.stdout.contains("KIND:       Widget") && explain.stdout.contains("color\t<string> -required-")
                    && explain.stdout.contains("enum: red, green, blue"), "\(explain.stdout)\(explain.stderr)")
            // Paging: one object per page, the same objects in the end.
            let paged = try kubectl(server, ["get", "widgets", "--chunk-size=1", "-o", "name", "-v=6"])
            #expect(paged.stdout == (try kubectl(server, ["get", "widgets", "-o", "name"])).stdout && paged.stderr.contains("continue="),
                    "\(paged.stdout)\(paged.stderr.suffix(500))")
            // A default added to the schema later shows in objects stored before it.
            #expect(try kubectl(server, ["patch", "crd", "widgets.example.com", "--type=json", "-p",
                                         #"[{"op": "add", "path": "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/mode", "value": {"type": "string", "default": "auto"}}]"#]).status == 0)
            var mode = ""
            for _ in 0..<50 where mode != "auto" {
                mode = try kubectl(server, ["get", "widget", "w2", "-o", "jsonpath={.spec.mode}"]).stdout
                if mode != "auto" { try await Task.sleep(for: .seconds(0.1)) }
            }
            #expect(mode == "auto", "defaults apply to stored objects when read")
            // Conditions written through the definition's status subresource are kept.
            #expect(try kubectl(server, ["patch", "crd", "widgets.example.com", "--subresource=status", "--type=json", "-p",
                                         #"[{"op": "add", "path": "/status/conditions/-", "value": {"type": "Audited", "status": "True", "reason": "Test", "message": "checked", "lastTransitionTime": "2026-01-01T00:00:00Z"}}]"#]).status == 0)
            var conditions = ""
            for _ in 0..<100 where !(conditions.contains("Audited") && conditions.contains("Established")) {
                conditions = try kubectl(server, ["get", "crd", "widgets.example.com", "-o", "jsonpath={.status.conditions[*].type}"]).stdout
                if !conditions.contains("Audited") { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(conditions.contains("Audited") && conditions.contains("Established"), "\(conditions)")

            // The garbage collector and namespace deletion reach custom objects too.
            #expect(try kubectl(server, ["create", "namespace", "gc"]).status == 0)
            #expect(try kubectl(server, ["create", "configmap", "owner", "-n", "gc"]).status == 0)
            let uid = try kubectl(server, ["get", "configmap", "owner", "-n", "gc", "-o", "jsonpath={.metadata.uid}"]).stdout
            let child = #"{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "child", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "\#(uid)"}]}, "spec": {"color": "red"}}"#
            #expect(try kubectl(server, ["create", "-n", "gc", "-f", "-"], stdin: child).status == 0)
            #expect(try kubectl(server, ["create", "-n", "gc", "-f", "-"], stdin: widget("loner", #"{"color": "red"}"#)).status == 0)
            #expect(try kubectl(server, ["delete", "configmap", "owner", "-n", "gc"]).status == 0)
            var collected = false
            for _ in 0..<50 where !collected {
                collected = try kubectl(server, ["get", "widget", "child", "-n", "gc", "--ignore-not-found", "-o", "name"]).stdout.isEmpty
                if !collected { try await Task.sleep(for: .seconds(0.1)) }
            }
            #expect(collected, "the owner's dependent widget is collected")
            #expect(try kubectl(server, ["delete", "namespace", "gc", "--timeout=30s"]).status == 0)
            #expect(try kubectl(server, ["get", "widgets", "-A", "-o", "name"]).stdout.contains("loner") == false)
        }
    }

    /// A second version serves the same objects; deleting the definition deletes its objects
    /// and stops serving the resource.
    @Test func versionsAndDeletion() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            #expect(try kubectl(server, ["apply", "-f", "-"], stdin: Self.widgets).status == 0)
            #expect(try kubectl(server, ["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"]).status == 0)
            #expect(try kubectl(server, ["apply", "-f", "-"], stdin: widget("w1", #"{"color": "red"}"#)).status == 0)

            var definition = try parseJSON(try kubectl(server, ["get", "crd", "widgets.example.com", "-o", "json"]).stdout)
            var spec = definition["spec"] as? [String: Any] ?? [:]
            var versions = spec["versions"] as? [[String: Any]] ?? []
            var beta = versions[0]
            beta["name"] = "v1beta1"
            beta["storage"] = false
            beta["deprecated"] = true
            beta["deprecationWarning"] = "example.com/v1beta1 Widget is deprecated; use example.com/v1"
            versions.append(beta)
            spec["versions"] = versions
            definition["spec"] = spec
            let data = try JSONSerialization.data(withJSONObject: definition)
            #expect(try kubectl(server, ["replace", "-f", "-"], stdin: String(decoding: data, as: UTF8.self)).status == 0)
            var old = try kubectl(server, ["get", "widgets.v1beta1.example.com", "w1", "-o", "json"])
            for _ in 0..<50 where old.status != 0 {
                try await Task.sleep(for: .seconds(0.1))
                old = try kubectl(server, ["get", "widgets.v1beta1.example.com", "w1", "-o", "json"])
            }
            #expect(old.status == 0, "\(old.stderr)")
            #expect((try? parseJSON(old.stdout))?["apiVersion"] as? String == "example.com/v1beta1", "served at the version asked for")
            #expect(old.stderr.contains("example.com/v1beta1 Widget is deprecated"), "\(old.stderr)")
            let current = try parseJSON(try kubectl(server, ["get", "widgets.v1.example.com", "w1", "-o", "json"]).stdout)
            #expect(current["apiVersion"] as? String == "example.com/v1")
            let discovery = try kubectl(server, ["get", "--raw", "/apis/example.com"]).stdout
            #expect(discovery.contains(#""preferredVersion":{"groupVersion":"example.com/v1""#), "\(discovery)")

            // A finalizer holds an object; deleting the definition waits for it, then everything goes.
            #expect(try kubectl(server, ["patch", "widget", "w1", "--type=merge", "-p", #"{"metadata": {"finalizers": ["example.com/hold"]}}"#]).status == 0)
            #expect(try kubectl(server, ["delete", "crd", "widgets.example.com", "--wait=false"]).status == 0)
            // The definition controller says it is waiting for the instances; it stays meanwhile.
            var held = try kubectl(server, ["get", "crd", "widgets.example.com", "-o", "jsonpath={.status.conditions[?(@.type==\"Terminating\")].status}"])
            for _ in 0..<100 where held.stdout != "True" {
                try await Task.sleep(for: .milliseconds(100))
                held = try kubectl(server, ["get", "crd", "widgets.example.com", "-o", "jsonpath={.status.conditions[?(@.type==\"Terminating\")].status}"])
            }
            #expect(held.stdout == "True", "\(held.stdout)\(held.stderr)")
            #expect(try kubectl(server, ["patch", "widget", "w1", "--type=merge", "-p", #"{"metadata": {"finalizers": null}}"#]).status == 0)
            var gone = false
            for _ in 0..<100 where !gone {
                gone = try kubectl(server, ["get", "crd", "widgets.example.com"]).status != 0
                if !gone { try await Task.sleep(for: .seconds(0.1)) }
            }
            #expect(gone, "the definition goes once its objects are gone")
            let unserved = try kubectl(server, ["get", "--raw", "/apis/example.com/v1/namespaces/default/widgets"])
            #expect(unserved.status != 0, "\(unserved.stdout)")
        }
    }

    /// Invalid definitions are refused with the fields named.
    @Test func invalidDefinitionsAreRefused() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let bad = """
                {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gadgets.example"},
                 "spec": {"group": "example", "scope": "Namespaced", "names": {"plural": "gadgets", "kind": "Gadget"},
                          "versions": [{"name": "v1", "served": true, "storage": false,
                                        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"properties": {}}},
                                                   "x-kubernetes-validations": [{"rule": "self.spec.(("}]}}}]}}
                """
            let refused = try kubectl(server, ["create", "-f", "-"], stdin: bad)
            #expect(refused.status != 0)
            for message in ["spec.group: Invalid value: \"example\": should be a domain with at least one dot",
                            "must have exactly one version marked as storage version",
                            "properties[spec].type: Required value",
                            "compilation failed"] {
                #expect(refused.stderr.contains(message), "\(message): \(refused.stderr)")
            }
        }
    }

    /// The same with Python's `kubernetes` client (CustomObjectsApi), with a watch.
    @Test func pythonClientUsesCustomResources() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/custom_resources.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig], timeout: 120)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }
}
