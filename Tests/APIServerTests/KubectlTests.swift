import Foundation
import Synchronization
import TestSupport
import Testing

/// The real kubectl (1.32 and 1.37) against a real `skiff server`, through `skiff kubeconfig`.
@Suite(.serialized, .timeLimit(.minutes(10))) struct KubectlTests {
    static let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: nginx
                image: nginx:1.27
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-config
          labels: {app: web}
        data:
          greeting: hello
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: web-secret
        stringData:
          password: hunter2
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector: {app: web}
          ports:
          - port: 80
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-0
          labels: {app: web}
        spec:
          containers:
          - name: nginx
            image: nginx
        """

    @Test(arguments: Kubectl.all)
    func theEverydayCommandsWork(kubectl: String) async throws {
        try await offPool {
            guard FileManager.default.isExecutableFile(atPath: kubectl) else {
                Issue.record("\(kubectl) is missing: scripts/install-deps installs kubectl 1.37; kubectl 1.32 comes with the machine")
                return
            }
            let server = try SkiffServer()
            defer { server.destroy() }
            func k(_ arguments: String..., stdin: String? = nil) throws -> CommandOutput {
                try server.kubectl(kubectl, arguments, stdin: stdin)
            }

            let version = try k("version")
            #expect(version.stdout.contains("Server Version: v1.34"), "\(version.stdout)\(version.stderr)")

            let resources = try k("api-resources")
            #expect(resources.status == 0, "\(resources.stderr)")
            #expect(resources.stdout.range(of: #"deployments\s+deploy\s+apps/v1\s+true\s+Deployment"#, options: .regularExpression) != nil)
            #expect(resources.stdout.range(of: #"namespaces\s+ns\s+v1\s+false\s+Namespace"#, options: .regularExpression) != nil)
            let versions = try k("api-versions")
            #expect(versions.stdout.split(separator: "\n").contains("apps/v1"))
            #expect(versions.stdout.split(separator: "\n").contains("v1"))

            let created = try k("create", "namespace", "shop")
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout.contains("namespace/shop created"))
            let applied = try k("-n", "shop", "create", "-f", "-", stdin: Self.manifest)
            #expect(applied.status == 0, "\(applied.stderr)")
            for line in ["deployment.apps/web created", "configmap/web-config created", "secret/web-secret created",
                         "service/web created", "pod/web-0 created"] {
                #expect(applied.stdout.contains(line), "\(applied.stdout)")
            }

            let table = try k("-n", "shop", "get", "pods")
            #expect(table.stdout.range(of: #"web-0\s+0/1\s+Pending\s+0\s+\d+s"#, options: .regularExpression) != nil, "\(table.stdout)")
            let wide = try k("-n", "shop", "get", "deployments", "-o", "wide")
            #expect(wide.stdout.contains("IMAGES"))
            #expect(wide.stdout.range(of: #"web\s+0/2\s+0\s+0\s+\S+\s+nginx\s+nginx:1.27\s+app=web"#, options: .regularExpression) != nil, "\(wide.stdout)")
            let object = try parseJSON(try k("-n", "shop", "get", "deployment", "web", "-o", "json").stdout)
            let metadata = object["metadata"] as? [String: Any] ?? [:]
            #expect(metadata["uid"] as? String != nil)
            #expect(metadata["generation"] as? Int == 1)
            #expect((object["spec"] as? [String: Any])?["replicas"] as? Int == 2)
            let yaml = try k("-n", "shop", "get", "secret", "web-secret", "-o", "yaml")
            #expect(yaml.stdout.contains("password: aHVudGVyMg=="), "stringData is stored as base64 data: \(yaml.stdout)")
            #expect(!yaml.stdout.contains("stringData"))

            let labelled = try k("-n", "shop", "get", "configmaps,pods", "-l", "app=web", "-o", "name")
            #expect(Set(labelled.stdout.split(separator: "\n")) == ["configmap/web-config", "pod/web-0"], "\(labelled.stdout)")
            let fielded = try k("get", "pods", "-A", "--field-selector", "status.phase=Pending,metadata.namespace=shop")
            #expect(fielded.stdout.contains("NAMESPACE"))
            #expect(fielded.stdout.range(of: #"shop\s+web-0"#, options: .regularExpression) != nil)
            let everywhere = try k("get", "namespaces")
            for namespace in ["default", "kube-system", "kube-public", "kube-node-lease", "shop"] {
                #expect(everywhere.stdout.range(of: "\(namespace)\\s+Active", options: .regularExpression) != nil)
            }

            // Paging: 10 objects in chunks of 2 -> every object once, in 6 requests.
            for i in 0..<10 { _ = try k("-n", "shop", "create", "configmap", "page-\(i)", "--from-literal=i=\(i)") }
            let paged = try k("-n", "shop", "get", "configmaps", "-l", "!app", "--chunk-size=2", "-o", "name", "-v=6")
            let names = paged.stdout.split(separator: "\n").filter { $0.hasPrefix("configmap/page-") }
            #expect(Set(names).count == 10 && names.count == 10, "\(paged.stdout)")
            #expect(paged.stderr.components(separatedBy: "limit=2").count - 1 >= 5, "expected one request per page")

            // Watch: a change made after the watch starts is seen.
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: kubectl)
            watcher.arguments = ["--kubeconfig", server.kubeconfig, "-n", "shop", "get", "configmaps", "-w", "--watch-only", "-o", "name"]
            let output = Pipe(), errors = Pipe()
            watcher.standardOutput = output
            watcher.standardError = errors
            try watcher.run()
            defer { if watcher.isRunning { watcher.terminate() } }
            _ = try k("-n", "shop", "create", "configmap", "late", "--from-literal=a=0")
            // The watch may start after the create on a slow machine (the create is then part of the
            // list it hides); later changes of the object are seen in any case.
            let seen = Mutex("")
            let reader = Thread {
                while true {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { return }
                    seen.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
                }
            }
            reader.start()
            var round = 0
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !seen.withLock({ $0.contains("configmap/late") }) {
                try await Task.sleep(for: .seconds(1))
                round += 1
                if round % 3 == 0 { _ = try k("-n", "shop", "patch", "configmap", "late", "-p", "{\"data\":{\"a\":\"\(round)\"}}") }
            }
            watcher.terminate()
            let watchErrors = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(seen.withLock { $0.contains("configmap/late") }, "watch printed: \(seen.withLock { $0 }) \(watchErrors)\n\(server.logTail())")

            // Replace: the new content is stored and the resourceVersion moves.
            let before = try parseJSON(try k("-n", "shop", "get", "configmap", "web-config", "-o", "json").stdout)
            var changed = before
            changed["data"] = ["greeting": "bonjour"]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: changed), as: UTF8.self)
            let replaced = try k("-n", "shop", "replace", "-f", "-", stdin: body)
            #expect(replaced.stdout.contains("configmap/web-config replaced"), "\(replaced.stderr)")
            let after = try parseJSON(try k("-n", "shop", "get", "configmap", "web-config", "-o", "json").stdout)
            #expect((after["data"] as? [String: String])?["greeting"] == "bonjour")
            #expect((after["metadata"] as? [String: Any])?["resourceVersion"] as? String
                    != (before["metadata"] as? [String: Any])?["resourceVersion"] as? String)
            // A stale resourceVersion is a conflict.
            let stale = try k("-n", "shop", "replace", "-f", "-", stdin: body)
            #expect(stale.status != 0)
            #expect(stale.stderr.contains("the object has been modified"), "\(stale.stderr)")

            let deleted = try k("-n", "shop", "delete", "configmap", "web-config")
            #expect(deleted.stdout.contains("configmap \"web-config\" deleted"))
            let gone = try k("-n", "shop", "get", "configmap", "web-config")
            #expect(gone.status != 0)
            #expect(gone.stderr.contains("configmaps \"web-config\" not found"))

            let explain = try k("explain", "deployment.spec")
            #expect(explain.status == 0, "\(explain.stderr)")
            #expect(explain.stdout.contains("replicas"))
            #expect(explain.stdout.contains("template"))

            let canI = try k("auth", "can-i", "create", "deployments", "-n", "shop")
            #expect(canI.stdout == "yes\n", "\(canI.stdout)\(canI.stderr)")
            let rules = try k("auth", "can-i", "--list", "-n", "shop")
            #expect(rules.stdout.range(of: #"\*\.\*\s+\[\]\s+\[\]\s+\[\*\]"#, options: .regularExpression) != nil, "\(rules.stdout)")

            let whoami = try k("auth", "whoami")
            #expect(whoami.stdout.range(of: #"Username\s+admin"#, options: .regularExpression) != nil, "\(whoami.stdout)\(whoami.stderr)")
            #expect(whoami.stdout.contains("system:masters"))
        }
    }

    /// Client-side apply, diff, label, annotate, scale and the three patch formats.
    @Test(arguments: Kubectl.all)
    func applyAndPatch(kubectl: String) async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            func k(_ arguments: String..., stdin: String? = nil) throws -> CommandOutput {
                try server.kubectl(kubectl, arguments, stdin: stdin)
            }
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: nginx
                        image: nginx:1.27
                        env: [{name: A, value: "1"}, {name: B, value: "2"}]
                      - {name: side, image: busybox}
                """
            func resourceVersion() throws -> String {
                try k("get", "deployment", "web", "-o", "jsonpath={.metadata.resourceVersion}").stdout
            }
            #expect(try k("apply", "-f", "-", stdin: manifest).stdout.contains("deployment.apps/web created"))
            let first = try resourceVersion()
            let again = try k("apply", "-f", "-", stdin: manifest)
            #expect(again.stdout.contains("unchanged"), "\(again.stdout)\(again.stderr)")
            #expect(try resourceVersion() == first, "a second apply of the same manifest writes nothing")
            let changed = manifest.replacingOccurrences(of: "nginx:1.27", with: "nginx:1.28")
                .replacingOccurrences(of: ", {name: B, value: \"2\"}", with: "")
            #expect(try k("diff", "-f", "-", stdin: changed).status == 1, "diff sees the change (exit 1)")
            #expect(try k("apply", "-f", "-", stdin: changed).stdout.contains("configured"))
            let containers = try k("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image} {.spec.template.spec.containers[0].env[*].name}")
            #expect(containers.stdout == "nginx:1.28 busybox A", "the image changed and the removed env var is gone: \(containers.stdout)")
            #expect(try k("diff", "-f", "-", stdin: changed).status == 0, "diff after apply shows nothing (exit 0)")
            let takeover = try k("apply", "--server-side", "-f", "-", stdin: changed)
            #expect(takeover.status == 0, "server-side apply over a client-side applied object: \(takeover.stderr)")
            let owners = try k("get", "deployment", "web", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
            #expect(owners.stdout.split(separator: " ").contains("kubectl"), "\(owners.stdout)")

            #expect(try k("label", "deployment", "web", "tier=front").status == 0)
            #expect(try k("annotate", "deployment", "web", "note=hi").status == 0)
            #expect(try k("scale", "deployment", "web", "--replicas=4").status == 0)
            let meta = try k("get", "deployment", "web", "-o", "jsonpath={.metadata.labels.tier} {.metadata.annotations.note} {.spec.replicas}")
            #expect(meta.stdout == "front hi 4", "\(meta.stdout)")
            #expect(try k("patch", "deployment", "web", "--type=json",
                          "-p", #"[{"op":"test","path":"/spec/replicas","value":4},{"op":"replace","path":"/spec/replicas","value":5}]"#).status == 0)
            #expect(try k("patch", "deployment", "web", "--type=merge", "-p", #"{"spec":{"paused":true}}"#).status == 0)
            #expect(try k("patch", "deployment", "web", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:2"}]}}}}"#).status == 0)
            let patched = try k("get", "deployment", "web", "-o", "jsonpath={.spec.replicas} {.spec.paused} {.spec.template.spec.containers[*].image}")
            #expect(patched.stdout == "5 true nginx:1.28 busybox:2", "\(patched.stdout)")
            // Server-side apply: a second apply writes nothing; another manager's different value
            // conflicts until forced; server-side apply takes over from client-side apply.
            let ssa = manifest.replacingOccurrences(of: "name: web", with: "name: ssa")
            #expect(try k("apply", "--server-side", "-f", "-", stdin: ssa).stdout.contains("serverside-applied"))
            let ssaVersion = try k("get", "deployment", "ssa", "-o", "jsonpath={.metadata.resourceVersion}").stdout
            #expect(try k("apply", "--server-side", "-f", "-", stdin: ssa).status == 0)
            #expect(try k("get", "deployment", "ssa", "-o", "jsonpath={.metadata.resourceVersion}").stdout == ssaVersion)
            let other = ssa.replacingOccurrences(of: "replicas: 2", with: "replicas: 7")
            let conflict = try k("apply", "--server-side", "--field-manager=other", "-f", "-", stdin: other)
            #expect(conflict.status != 0)
            #expect(conflict.stderr.contains(#"conflict with "kubectl" using apps/v1: .spec.replicas"#), "\(conflict.stderr)")
            #expect(try k("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-", stdin: other).status == 0)
            #expect(try k("get", "deployment", "ssa", "-o", "jsonpath={.spec.replicas}").stdout == "7")

            // Unknown fields: refused with --validate=strict (the default), dropped with a warning
            // with --validate=warn; a value of the wrong type is a 400.
            let unknown = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: odd, bogus: 1}
                data: {a: "1"}
                extra: true
                """
            let strict = try k("create", "-f", "-", stdin: unknown)
            #expect(strict.status != 0)
            #expect(strict.stderr.contains(#"strict decoding error: unknown field "extra", unknown field "metadata.bogus""#), "\(strict.stderr)")
            let warned = try k("create", "-f", "-", "--validate=warn", stdin: unknown)
            #expect(warned.status == 0)
            #expect(warned.stderr.contains(#"Warning: unknown field "extra""#), "\(warned.stderr)")
            #expect(!(try k("get", "configmap", "odd", "-o", "json").stdout.contains("extra")), "unknown fields are not stored")
            let mistyped = try k("create", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {a: 1}\n")
            #expect(mistyped.stderr.contains("cannot unmarshal number into Go struct field data.a of type string"), "\(mistyped.stderr)")

            // Invalid patches of every kind: a 4xx naming the problem, the object unchanged.
            let before = try resourceVersion()
            let invalid: [(type: String, patch: String, says: String)] = [
                ("json", #"[{"op":"test","path":"/spec/replicas","value":99}]"#, "test operation 0 failed"),
                ("json", #"[{"op":"frobnicate","path":"/spec"}]"#, "unknown op"),
                ("json", #"[{"op":"remove","path":"/spec/nothing"}]"#, "does not exist"),
                ("merge", #"{"metadata":{"labels":{"bad key!":"x"}}}"#, "metadata.labels"),
                ("strategic", #"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","$patch":"bogus"}]}}}}"#, "unknown $patch directive"),
                ("strategic", #"{"spec":{"replicas":"many"}}"#, "cannot unmarshal string"),
            ]
            for (type, patch, says) in invalid {
                let result = try k("patch", "deployment", "web", "--type=\(type)", "-p", patch)
                #expect(result.status != 0)
                #expect(result.stderr.contains(says), "\(type) \(patch): \(result.stderr)")
            }
            #expect(try resourceVersion() == before, "failed patches change nothing")

            // set image, edit through KUBE_EDITOR, and a server-side dry run.
            #expect(try k("set", "image", "deployment/web", "nginx=nginx:1.29").status == 0)
            #expect(try k("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout == "nginx:1.29")
            // The editor is a command line, not a script written here: executing a file this
            // process has just written fails with ETXTBSY when a concurrent test's fork still
            // holds its descriptor. kubectl runs an editor with quotes in it through the shell.
            let editor = "sed -i 's/tier: front/tier: back/'"
            let edited = try run(kubectl, ["--kubeconfig", server.kubeconfig, "edit", "deployment", "web"], environment: ["KUBE_EDITOR": editor])
            #expect(edited.stdout.contains("deployment.apps/web edited"), "\(edited.stdout)\(edited.stderr)")
            #expect(try k("get", "deployment", "web", "-o", "jsonpath={.metadata.labels.tier}").stdout == "back")
            let beforeDryRun = try resourceVersion()
            let dry = try k("apply", "--dry-run=server", "-f", "-", stdin: changed.replacingOccurrences(of: "replicas: 2", with: "replicas: 9"))
            #expect(dry.stdout.contains("(server dry run)"), "\(dry.stdout)\(dry.stderr)")
            #expect(try resourceVersion() == beforeDryRun)
            #expect(try k("get", "deployment", "web", "-o", "jsonpath={.spec.replicas}").stdout == "5")
        }
    }

    /// The built-in defaults make `apply` then `diff` quiet for the common kinds, and a replace
    /// with a bare manifest keeps them.
    @Test func defaultsKeepApplyAndDiffQuiet() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata: {name: s1}
                spec:
                  selector: {app: x}
                  ports: [{port: 80, targetPort: 8080}]
                ---
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: st1}
                spec:
                  serviceName: s1
                  selector: {matchLabels: {app: st}}
                  template:
                    metadata: {labels: {app: st}}
                    spec: {containers: [{name: c, image: nginx}]}
                ---
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: ds1}
                spec:
                  selector: {matchLabels: {app: ds}}
                  template:
                    metadata: {labels: {app: ds}}
                    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
                ---
                apiVersion: batch/v1
                kind: Job
                metadata: {name: j1}
                spec:
                  template:
                    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
                ---
                apiVersion: batch/v1
                kind: CronJob
                metadata: {name: cj1}
                spec:
                  schedule: "*/5 * * * *"
                  jobTemplate:
                    spec:
                      template:
                        spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: p1}
                spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
                """
            #expect(try server.kubectl(Kubectl.v132, ["apply", "-f", "-"], stdin: manifest).status == 0)
            let diff = try server.kubectl(Kubectl.v132, ["diff", "-f", "-"], stdin: manifest)
            #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
            let job = try parseJSON(try server.kubectl(Kubectl.v132, ["get", "job", "j1", "-o", "json"]).stdout)
            let spec = job["spec"] as? [String: Any] ?? [:]
            #expect(spec["backoffLimit"] as? Int == 6 && spec["completionMode"] as? String == "NonIndexed")
            let statefulSet = try parseJSON(try server.kubectl(Kubectl.v132, ["get", "statefulset", "st1", "-o", "json"]).stdout)
            #expect((statefulSet["spec"] as? [String: Any])?["podManagementPolicy"] as? String == "OrderedReady")
            let bare = "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\nspec:\n  selector: {app: other}\n  ports: [{port: 81}]\n"
            let replaced = try server.kubectl(Kubectl.v132, ["replace", "-f", "-"], stdin: bare)
            #expect(replaced.status == 0, "\(replaced.stderr)")
            let service = try parseJSON(try server.kubectl(Kubectl.v132, ["get", "service", "s1", "-o", "json"]).stdout)
            let serviceSpec = service["spec"] as? [String: Any] ?? [:]
            #expect(serviceSpec["type"] as? String == "ClusterIP" && serviceSpec["sessionAffinity"] as? String == "None")
            #expect((serviceSpec["ports"] as? [[String: Any]])?.first?["targetPort"] as? Int == 81)
        }
    }

    /// Every active namespace gets a `default` ServiceAccount and the `kube-root-ca.crt`
    /// ConfigMap; deleting or changing them puts them back.
    @Test func namespacesGetTheirDefaultServiceAccountAndRootCA() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            func k(_ arguments: String...) throws -> CommandOutput { try server.kubectl(Kubectl.v132, arguments) }
            func eventually(_ what: String, _ check: () throws -> Bool) throws {
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline {
                    if try check() { return }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                Issue.record("not within 30 s: \(what)\n\(server.logTail())")
            }
            let ca = try String(contentsOfFile: server.dataDir + "/pki/ca.crt", encoding: .utf8)
            #expect(try k("create", "namespace", "team").status == 0)
            try eventually("the default ServiceAccount appears") { try k("-n", "team", "get", "serviceaccount", "default").status == 0 }
            try eventually("the root CA ConfigMap holds the CA") {
                try k("-n", "team", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}").stdout == ca
            }
            #expect(try k("-n", "team", "delete", "serviceaccount", "default").status == 0)
            try eventually("a deleted default ServiceAccount comes back") { try k("-n", "team", "get", "serviceaccount", "default").status == 0 }
            #expect(try k("-n", "team", "patch", "configmap", "kube-root-ca.crt", "-p", #"{"data":{"ca.crt":"tampered"}}"#).status == 0)
            try eventually("a changed root CA ConfigMap is put right") {
                try k("-n", "team", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}").stdout == ca
            }
            #expect(try k("-n", "kube-system", "get", "serviceaccount", "default").status == 0, "the namespaces made at start have one too")
        }
    }

    /// `kubectl delete namespace` finishes: the namespace goes Terminating, its content (here
    /// 202 objects of 6 types) is deleted, then the namespace; a namespace of the same name
    /// starts empty. The namespaces
    /// every cluster needs cannot be deleted.
    @Test func deletingANamespaceRemovesItsContent() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            func k(_ arguments: String...) throws -> CommandOutput { try server.kubectl(Kubectl.v132, arguments) }
            #expect(try k("create", "namespace", "gone").status == 0)
            #expect(try k("-n", "gone", "create", "configmap", "a", "--from-literal=x=1").status == 0)
            #expect(try k("-n", "gone", "create", "deployment", "d", "--image=nginx").status == 0)
            // 200 more objects of 6 types.
            var items: [String] = []
            for i in 0..<34 {
                items.append(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-\#(i)"},"data":{"k":"v"}}"#)
                items.append(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s-\#(i)"},"stringData":{"k":"v"}}"#)
                items.append(#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa-\#(i)"}}"#)
                items.append(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-\#(i)"},"spec":{"ports":[{"port":80}]}}"#)
                items.append(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-\#(i)"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#)
                if i < 30 {
                    items.append(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d-\#(i)"},"spec":{"selector":{"matchLabels":{"a":"\#(i)"}},"template":{"metadata":{"labels":{"a":"\#(i)"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"#)
                }
            }
            let list = #"{"apiVersion":"v1","kind":"List","items":["# + items.joined(separator: ",") + "]}"
            // (kubectl validates a List against the OpenAPI v2 document in protobuf.)
            let bulk = try server.kubectl(Kubectl.v132, ["-n", "gone", "create", "-f", "-"], stdin: list)
            #expect(bulk.status == 0 && items.count == 200, "\(bulk.stderr)")
            let deleted = try k("delete", "namespace", "gone", "--timeout=60s")
            #expect(deleted.stdout.contains("namespace \"gone\" deleted"), "\(deleted.stdout)\(deleted.stderr)\n\(server.logTail())")
            #expect(try k("get", "namespace", "gone").stderr.contains("not found"))
            #expect(try k("create", "namespace", "gone").status == 0)
            let content = try k("-n", "gone", "get", "configmap,secret,serviceaccount,service,pod,deployment", "-o", "name")
            let left = content.stdout.split(separator: "\n").filter { !$0.hasPrefix("configmap/kube-root-ca.crt") && !$0.hasPrefix("serviceaccount/default") }
            #expect(left.isEmpty, "\(content.stdout)")
            let refused = try k("delete", "namespace", "kube-system")
            #expect(refused.stderr.contains(#"namespaces "kube-system" is forbidden: this namespace may not be deleted"#), "\(refused.stderr)")
        }
    }

    /// An object with finalizers is marked for deletion and stays until the last one is
    /// removed; no finalizer may be added meanwhile; a namespace waits for such content.
    @Test func finalizersHoldObjectsAndNamespaces() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            func k(_ arguments: String...) throws -> CommandOutput { try server.kubectl(Kubectl.v132, arguments) }
            #expect(try k("create", "namespace", "held").status == 0)
            #expect(try k("-n", "held", "create", "configmap", "c", "--from-literal=a=1").status == 0)
            #expect(try k("-n", "held", "patch", "configmap", "c", "-p", #"{"metadata":{"finalizers":["example.com/hold"]}}"#).status == 0)
            #expect(try k("-n", "held", "delete", "configmap", "c", "--wait=false").status == 0)
            let marked = try k("-n", "held", "get", "configmap", "c", "-o", "jsonpath={.metadata.deletionTimestamp}")
            #expect(!marked.stdout.isEmpty, "the object stays, marked for deletion")
            let added = try k("-n", "held", "patch", "configmap", "c", "--type=json", "-p", #"[{"op":"add","path":"/metadata/finalizers/-","value":"x/y"}]"#)
            #expect(added.stderr.contains("no new finalizers can be added if the object is being deleted"), "\(added.stderr)")
            #expect(try k("delete", "namespace", "held", "--wait=false").status == 0)
            // The namespace controller has looked at it once it says what remains; it stays.
            var remaining = ""
            let looked = Date().addingTimeInterval(30)
            while Date() < looked, !remaining.contains("held by finalizers") {
                remaining = try k("get", "namespace", "held", "-o", "jsonpath={.status.conditions[0].message}").stdout
                if !remaining.contains("held by finalizers") { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(remaining.contains("held by finalizers"), "the controller reports the held content: \(remaining)")
            let phase = try k("get", "namespace", "held", "-o", "jsonpath={.status.phase}")
            #expect(phase.stdout == "Terminating", "the namespace waits for the finalizer: \(phase.stdout)")
            #expect(try k("-n", "held", "patch", "configmap", "c", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/finalizers"}]"#).status == 0)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, try k("get", "namespace", "held").status == 0 { try await Task.sleep(for: .seconds(0.5)) }
            #expect(try k("get", "namespace", "held").stderr.contains("not found"), "\(server.logTail())")
            #expect(try k("-n", "held", "get", "configmap", "c").stderr.contains("not found"))
        }
    }

    /// kubectl's generators send protobuf bodies; each one must arrive intact.
    @Test func typedClientProtobufBodiesAreDecoded() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            func k(_ arguments: String...) throws -> CommandOutput { try server.kubectl(Kubectl.v132, arguments) }
            #expect(try k("create", "deployment", "d1", "--image=img1:tag1", "--replicas=3", "--port=8081").status == 0)
            let deployment = try parseJSON(try k("get", "deployment", "d1", "-o", "json").stdout)
            let spec = deployment["spec"] as? [String: Any] ?? [:]
            #expect(spec["replicas"] as? Int == 3)
            let podSpec = ((spec["template"] as? [String: Any])?["spec"] as? [String: Any]) ?? [:]
            let container = (podSpec["containers"] as? [[String: Any]])?.first ?? [:]
            #expect(container["image"] as? String == "img1:tag1")
            #expect((container["ports"] as? [[String: Any]])?.first?["containerPort"] as? Int == 8081)

            #expect(try k("create", "service", "nodeport", "np", "--tcp=83:8083", "--node-port=30001").status == 0)
            let service = try parseJSON(try k("get", "service", "np", "-o", "json").stdout)
            let port = ((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])?.first ?? [:]
            #expect(port["port"] as? Int == 83)
            #expect(port["targetPort"] as? Int == 8083)
            #expect(port["nodePort"] as? Int == 30001)

            #expect(try k("create", "priorityclass", "zero", "--value=0", "--description=d").status == 0)
            let priority = try parseJSON(try k("get", "priorityclass", "zero", "-o", "json").stdout)
            #expect(priority["value"] as? Int == 0, "a required zero survives decoding")

            #expect(try k("create", "ingress", "ing", "--rule=h.example.com/p*=svc:80,tls=sec").status == 0)
            let ingress = try parseJSON(try k("get", "ingress", "ing", "-o", "json").stdout)
            let rule = ((ingress["spec"] as? [String: Any])?["rules"] as? [[String: Any]])?.first ?? [:]
            #expect(rule["host"] as? String == "h.example.com")
            #expect(((rule["http"] as? [String: Any])?["paths"] as? [[String: Any]])?.first?["pathType"] as? String == "Prefix",
                    "inlined message fields are flattened as in JSON")

            #expect(try k("create", "secret", "generic", "s", "--from-literal=k=v").status == 0)
            let secret = try parseJSON(try k("get", "secret", "s", "-o", "json").stdout)
            #expect((secret["data"] as? [String: String])?["k"] == "dg==")
        }
    }

    /// The server writes its admin kubeconfig (mode 0600) into the data directory at start.
    @Test func theServerWritesAWorkingAdminKubeconfig() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let path = server.dataDir + "/admin.kubeconfig"
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let namespaces = try run(Kubectl.v132, ["--kubeconfig", path, "get", "namespace", "default", "-o", "name"])
            #expect(namespaces.stdout == "namespace/default\n", "\(namespaces.stderr)")
        }
    }

    /// Static tokens from --token-auth-file authenticate; unknown tokens and anonymous
    /// requests get 401.
    @Test func bearerTokensFromATokenFile() async throws {
        try await offPool {
            let file = NSTemporaryDirectory() + "skiff-tokens-" + UUID().uuidString
            try "s3cret-token,alice,1001,\"devs,ops\"\n".write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let server = try SkiffServer(extraArguments: ["--token-auth-file", file])
            defer { server.destroy() }
            let base = ["--server", server.url, "--certificate-authority", server.dataDir + "/pki/ca.crt", "--kubeconfig", "/dev/null"]
            let alice = try run(Kubectl.v132, base + ["--token", "s3cret-token", "auth", "whoami", "-o", "json"])
            #expect(alice.status == 0, "\(alice.stderr)")
            let status = (try parseJSON(alice.stdout)["status"] as? [String: Any])?["userInfo"] as? [String: Any] ?? [:]
            #expect(status["username"] as? String == "alice")
            #expect(status["uid"] as? String == "1001")
            #expect(Set(status["groups"] as? [String] ?? []) == ["devs", "ops", "system:authenticated"])
            let wrong = try run(Kubectl.v132, base + ["--token", "wrong", "get", "namespaces"])
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("the server has asked for the client to provide credentials"), "\(wrong.stderr)")
        }
    }

    /// The server speaks HTTP/2 with at least 1000 concurrent streams per connection.
    @Test func http2AllowsAThousandStreams() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let nghttp = try run(try which("nghttp"), ["-nv", server.url + "/version"])
            // The server's SETTINGS frame is the first one received.
            let received = nghttp.stdout.components(separatedBy: "recv SETTINGS frame").dropFirst().first ?? ""
            let settings = received.components(separatedBy: "\n").first { $0.contains("SETTINGS_MAX_CONCURRENT_STREAMS") } ?? ""
            let value = Int(settings.split(separator: ":").last?.trimmingCharacters(in: CharacterSet(charactersIn: " ]")) ?? "") ?? 0
            #expect(value >= 1000, "\(nghttp.stdout.prefix(2000))")
            let load = try run(try which("h2load"), ["-n", "3000", "-c", "1", "-m", "1000", server.url + "/healthz"])
            #expect(load.stdout.contains("3000 succeeded"), "\(load.stdout)")
        }
    }
}

/// SIGTERM stops a server promptly and cleanly even while watches are open.
@Suite(.timeLimit(.minutes(10))) struct ShutdownTests {
    @Test func sigtermEndsTheServerWithOpenWatches() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: Kubectl.v132)
            watcher.arguments = ["--kubeconfig", server.kubeconfig, "get", "configmaps", "-A", "-w"]
            watcher.standardOutput = FileHandle.nullDevice
            watcher.standardError = FileHandle.nullDevice
            try watcher.run()
            defer { if watcher.isRunning { watcher.terminate() } }
            // The watch is open once the server counts it.
            var open = false
            let opened = Date().addingTimeInterval(30)
            while Date() < opened, !open {
                let metrics = try server.kubectl(Kubectl.v132, ["get", "--raw", "/metrics"]).stdout
                open = metrics.split(separator: "\n").contains { $0.hasPrefix("apiserver_registered_watchers") && !$0.hasSuffix(" 0") }
                if !open { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(open, "kubectl's watch is registered")
            let started = Date()
            server.process.terminate()
            server.process.waitUntilExit()
            let took = Date().timeIntervalSince(started)
            #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0,
                    "exit status \(server.process.terminationStatus)\n\(server.logTail())")
            #expect(took < 15, "stopping took \(took) s")
        }
    }
}
