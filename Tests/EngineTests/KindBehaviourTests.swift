@testable import APIServer
import Foundation
import Testing

/// What each kind's strategy adds to the generic verbs, reached through the engine in
/// process: namespace deletion, Service addresses, the scale and token subresources,
/// reviews, bindings, table columns and what a delete answers.
@Suite(.timeLimit(.minutes(2)))
struct KindBehaviourTests {
    static let table = "application/json;as=Table;v=v1;g=meta.k8s.io"

    @Test func theRegistryServesUnlistedKindsPlainlyAndCustomResourcesByTheirDefinition() throws {
        let catalog = try ResourceCatalog.builtIn()
        let kinds = KindRegistry.builtIn(KindDependencies(serviceAddresses: nil, serviceAccountTokens: nil,
                                                          authenticator: AuthenticatorChain([]), authorizer: AlwaysAllowAuthorizer()))
        let maps = try #require(catalog.resource(group: "", version: "v1", plural: "configmaps"))
        let roles = try #require(catalog.resource(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles"))
        let leases = try #require(catalog.resource(group: "coordination.k8s.io", version: "v1", plural: "leases"))
        #expect(kinds.strategy(for: maps) is ConfigMapStrategy)
        #expect(kinds.strategy(for: roles).nameErrors("system:basic-user").isEmpty, "RBAC names may hold colons")
        #expect(kinds.strategy(for: leases) is DefaultStrategy)
        #expect(kinds.strategy(for: leases).table.columns.map(\.name) == ["Name", "Holder", "Age"])
        var unknown = maps
        unknown.group = "example.com"
        unknown.kind = "Widget"
        #expect(!kinds.isRegistered("example.com", "Widget"))
        #expect(kinds.strategy(for: unknown) is DefaultStrategy)
    }

    @Test func namespacesTurnTerminatingAndGoWhenFinalized() async throws {
        let api = try await InProcessAPI()
        let protected = await api.request(.DELETE, "/api/v1/namespaces/kube-system")
        #expect(protected.status == 403)
        #expect(await api.request(.GET, "/api/v1/namespaces/kube-system").status == 200)

        #expect(await api.request(.POST, "/api/v1/namespaces", .resource("v1", "Namespace", name: "held")).status == 201)
        let deleted = await api.request(.DELETE, "/api/v1/namespaces/held")
        #expect(deleted.status == 200)
        #expect(deleted.body["kind"]?.stringValue == "Namespace", "a namespace delete answers the namespace")
        #expect(deleted.body[path: ["status", "phase"]]?.stringValue == "Terminating")
        #expect(deleted.body[path: ["metadata", "deletionTimestamp"]] != nil)
        // Without the namespace controller the `kubernetes` finalizer holds it.
        #expect(await api.request(.DELETE, "/api/v1/namespaces/held").status == 200)
        #expect(await api.request(.GET, "/api/v1/namespaces/held").status == 200)
        let inside = await api.request(.POST, "/api/v1/namespaces/held/configmaps",
                                       .resource("v1", "ConfigMap", name: "late", namespace: "held"))
        #expect(inside.status == 403)
        #expect(inside.body[path: ["details", "causes"]]?.arrayValue?.first?["reason"]?.stringValue == "NamespaceTerminating")
        let missing = await api.request(.POST, "/api/v1/namespaces/nowhere/configmaps",
                                        .resource("v1", "ConfigMap", name: "x", namespace: "nowhere"))
        #expect(missing.status == 404)
        #expect(missing.body["message"]?.stringValue == "namespaces \"nowhere\" not found")

        var finalized = await api.request(.GET, "/api/v1/namespaces/held").body
        finalized[path: ["spec", "finalizers"]] = .array([])
        #expect(await api.request(.PUT, "/api/v1/namespaces/held/finalize", finalized).status == 200)
        #expect(await api.request(.GET, "/api/v1/namespaces/held").status == 404, "released by its last finalizer, it goes")
    }

    @Test func servicesHoldTheirAddressUntilDeleted() async throws {
        let api = try await InProcessAPI()
        let service = JSON.resource("v1", "Service", name: "web", namespace: "default", ["spec": ["ports": [["port": 80]]]])
        let created = await api.request(.POST, "/api/v1/namespaces/default/services", service)
        #expect(created.status == 201)
        let ip = try #require(created.body[path: ["spec", "clusterIP"]]?.stringValue)
        let octets = ip.split(separator: ".").compactMap { Int($0) }
        #expect(octets.count == 4 && octets[0] == 10 && (96...111).contains(octets[1]), "an address of 10.96.0.0/12: \(ip)")

        var moved = created.body
        moved[path: ["spec", "clusterIP"]] = "10.96.200.200"
        moved[path: ["spec", "clusterIPs"]] = ["10.96.200.200"]
        let refused = await api.request(.PUT, "/api/v1/namespaces/default/services/web", moved)
        #expect(refused.status == 422)
        #expect(refused.body[path: ["details", "causes"]]?.arrayValue?.first?["field"]?.stringValue == "spec.clusterIPs[0]")

        var taken = JSON.resource("v1", "Service", name: "copy", namespace: "default", ["spec": ["ports": [["port": 80]]]])
        taken[path: ["spec", "clusterIP"]] = .string(ip)
        #expect(await api.request(.POST, "/api/v1/namespaces/default/services", taken).status == 422, "the address is taken")
        let deleted = await api.request(.DELETE, "/api/v1/namespaces/default/services/web")
        #expect(deleted.status == 200)
        #expect(deleted.body["kind"]?.stringValue == "Service", "a Service delete answers the Service")
        #expect(await api.request(.POST, "/api/v1/namespaces/default/services", taken).status == 201, "the delete gave the address back")
    }

    @Test func deletesAnswerAStatusOrTheObjectAsTheKindSays() async throws {
        let api = try await InProcessAPI()
        #expect(await api.request(.POST, "/api/v1/namespaces/default/configmaps",
                                  .resource("v1", "ConfigMap", name: "m", namespace: "default")).status == 201)
        let map = await api.request(.DELETE, "/api/v1/namespaces/default/configmaps/m")
        #expect(map.body["kind"]?.stringValue == "Status")
        #expect(map.body[path: ["details", "name"]]?.stringValue == "m")
        #expect(await api.request(.POST, "/api/v1/namespaces/default/podtemplates", .resource("v1", "PodTemplate", name: "t", namespace: "default", [
            "template": ["spec": ["containers": [["name": "c", "image": "busybox"]]]],
        ])).status == 201)
        #expect(await api.request(.DELETE, "/api/v1/namespaces/default/podtemplates/t").body["kind"]?.stringValue == "PodTemplate")
    }

    @Test func theScaleSubresourceReadsAndWritesReplicas() async throws {
        let api = try await InProcessAPI()
        let path = EngineVerbTests.deployments
        #expect(await api.request(.POST, path, EngineVerbTests.deployment("web", replicas: 2)).status == 201)
        let scale = await api.request(.GET, path + "/web/scale")
        #expect(scale.status == 200)
        #expect(scale.body["kind"]?.stringValue == "Scale")
        #expect(scale.body["apiVersion"]?.stringValue == "autoscaling/v1")
        #expect(scale.body[path: ["spec", "replicas"]]?.intValue == 2)
        #expect(scale.body[path: ["status", "selector"]]?.stringValue == "app=web")

        var wanted = scale.body
        wanted[path: ["spec", "replicas"]] = 4
        #expect(await api.request(.PUT, path + "/web/scale", wanted).body[path: ["spec", "replicas"]]?.intValue == 4)
        let stale = await api.request(.PUT, path + "/web/scale", wanted)
        #expect(stale.status == 409, "the Scale's resourceVersion is a precondition")
        let patched = await api.request(.PATCH, path + "/web/scale", ["spec": ["replicas": 6]], contentType: "application/merge-patch+json")
        #expect(patched.status == 200)
        #expect(patched.body[path: ["spec", "replicas"]]?.intValue == 6)
        let deployment = await api.request(.GET, path + "/web")
        #expect(deployment.body[path: ["spec", "replicas"]]?.intValue == 6)
        #expect(deployment.body[path: ["metadata", "generation"]]?.intValue == 3, "each replica change is a new generation")
        let managers = deployment.body[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        #expect(managers.contains { $0["subresource"]?.stringValue == "scale" && $0["operation"]?.stringValue == "Update" },
                "a scale write is recorded in managedFields as one through the scale subresource: \(managers)")
        let negative = await api.request(.PATCH, path + "/web/scale", ["spec": ["replicas": -1]], contentType: "application/merge-patch+json")
        #expect(negative.status == 422)
        #expect(await api.request(.DELETE, path + "/web/scale").status == 405)
        #expect(await api.request(.GET, "/api/v1/namespaces/default/configmaps/x/scale").status == 404, "ConfigMaps have no scale")
    }

    @Test func tokenRequestsAndReviewsAnswerWithoutStoringAnything() async throws {
        let api = try await InProcessAPI()
        #expect(await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts",
                                  .resource("v1", "ServiceAccount", name: "robot", namespace: "default")).status == 201)
        let request: JSON = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 600]]
        let issued = await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts/robot/token", request)
        #expect(issued.status == 201)
        let token = try #require(issued.body[path: ["status", "token"]]?.stringValue)
        #expect(await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts/robot/token", [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 60],
        ]).status == 422, "tokens live at least 10 minutes")

        let review = await api.request(.POST, "/apis/authentication.k8s.io/v1/tokenreviews", [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": .string(token)],
        ])
        #expect(review.status == 201)
        #expect(review.body[path: ["status", "authenticated"]] == true)
        #expect(review.body[path: ["status", "user", "username"]]?.stringValue == "system:serviceaccount:default:robot")
        let forged = await api.request(.POST, "/apis/authentication.k8s.io/v1/tokenreviews", [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": "not-a-token"],
        ])
        #expect(forged.body[path: ["status", "authenticated"]] == false)

        func mayCreateSecrets(_ token: String) async -> JSON? {
            await api.request(.POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", [
                "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": ["resourceAttributes": ["verb": "create", "resource": "secrets", "namespace": "default"]],
            ], token: token).body[path: ["status", "allowed"]]
        }
        #expect(await mayCreateSecrets(InProcessAPI.adminToken) == true)
        #expect(await mayCreateSecrets(InProcessAPI.viewerToken) == false)
        let nobody = await api.request(.POST, "/apis/authorization.k8s.io/v1/subjectaccessreviews", [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": ["resourceAttributes": ["verb": "get", "resource": "pods"]],
        ])
        #expect(nobody.status == 422, "a review for nobody is refused")
        #expect(await api.request(.GET, "/apis/authorization.k8s.io/v1/subjectaccessreviews").status == 405, "reviews are not stored")
        await Self.checkControlPlaneRoles(api)
    }

    @Test func aBindingAssignsAPodOnce() async throws {
        let api = try await InProcessAPI(controllers: true)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/default/serviceaccounts/default").status == 200 })
        let pod = JSON.resource("v1", "Pod", name: "p", namespace: "default", [
            "spec": ["containers": [["name": "c", "image": "busybox"]]],
        ])
        #expect(await api.request(.POST, "/api/v1/namespaces/default/pods", pod).status == 201)
        let binding = JSON.resource("v1", "Binding", name: "p", namespace: "default", ["target": ["kind": "Node", "name": "node-1"]])
        #expect(await api.request(.POST, "/api/v1/namespaces/default/bindings", binding).status == 201)
        #expect(await api.request(.GET, "/api/v1/namespaces/default/pods/p").body[path: ["spec", "nodeName"]]?.stringValue == "node-1")
        #expect(await api.request(.POST, "/api/v1/namespaces/default/bindings", binding).status == 409, "a bound pod stays bound")
        let deleted = await api.request(.DELETE, "/api/v1/namespaces/default/pods/p")
        #expect(deleted.body["kind"]?.stringValue == "Pod", "a Pod delete answers the Pod")
    }

    @Test func ephemeralContainersAreAddedOnceAndResizeChangesOnlyResources() async throws {
        let api = try await InProcessAPI(controllers: true)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/default/serviceaccounts/default").status == 200 })
        let pod = JSON.resource("v1", "Pod", name: "p", namespace: "default", [
            "spec": ["containers": [["name": "c", "image": "busybox",
                                     "resources": ["requests": ["cpu": "100m", "memory": "64Mi"], "limits": ["cpu": "200m", "memory": "64Mi"]]]]],
        ])
        #expect(await api.request(.POST, "/api/v1/namespaces/default/pods", pod).status == 201)
        let path = "/api/v1/namespaces/default/pods/p/ephemeralcontainers"
        let debug: JSON = ["spec": ["ephemeralContainers": [["name": "debugger", "image": "busybox", "stdin": true, "tty": true]]]]
        let added = await api.request(.PATCH, path, debug, contentType: "application/strategic-merge-patch+json")
        #expect(added.status == 200, "\(added.body)")
        let stored = await api.request(.GET, "/api/v1/namespaces/default/pods/p").body
        #expect(stored[path: ["spec", "ephemeralContainers"]]?.arrayValue?.first?["terminationMessagePolicy"]?.stringValue == "File",
                "an ephemeral container is defaulted as a container is")
        let changed: JSON = ["spec": ["ephemeralContainers": [["name": "debugger", "image": "alpine"]]]]
        #expect(await api.request(.PATCH, path, changed, contentType: "application/strategic-merge-patch+json").status == 422,
                "an ephemeral container is never changed")
        let withPorts: JSON = ["spec": ["ephemeralContainers": [["name": "second", "image": "busybox", "ports": [["containerPort": 80]]]]]]
        let refused = await api.request(.PATCH, path, withPorts, contentType: "application/strategic-merge-patch+json")
        #expect(refused.status == 422 && "\(refused.body)".contains("cannot be set for an Ephemeral Container"), "\(refused.body)")
        let duplicate: JSON = ["spec": ["ephemeralContainers": [["name": "c", "image": "busybox"]]]]
        #expect(await api.request(.PATCH, path, duplicate, contentType: "application/strategic-merge-patch+json").status == 422)
        var replaced = stored
        replaced[path: ["spec", "ephemeralContainers"]] = nil
        replaced[path: ["spec", "containers", "0", "image"]] = "alpine"
        _ = await api.request(.PUT, "/api/v1/namespaces/default/pods/p", replaced)
        let afterPut = await api.request(.GET, "/api/v1/namespaces/default/pods/p").body
        #expect(afterPut[path: ["spec", "ephemeralContainers"]]?.arrayValue?.count == 1, "the main resource does not drop them")

        let resize = "/api/v1/namespaces/default/pods/p/resize"
        let bigger: JSON = ["spec": ["containers": [["name": "c", "resources": ["requests": ["cpu": "150m", "memory": "64Mi"],
                                                                                  "limits": ["cpu": "300m", "memory": "64Mi"]]]],
                                     "activeDeadlineSeconds": 5]]
        let resized = await api.request(.PATCH, resize, bigger, contentType: "application/strategic-merge-patch+json")
        #expect(resized.status == 200, "\(resized.body)")
        let now = await api.request(.GET, "/api/v1/namespaces/default/pods/p").body
        #expect(now[path: ["spec", "containers"]]?.arrayValue?.first?[path: ["resources", "limits", "cpu"]]?.stringValue == "300m")
        #expect(now[path: ["spec", "activeDeadlineSeconds"]] == nil, "resize changes resources only")
        let guaranteed: JSON = ["spec": ["containers": [["name": "c", "resources": ["requests": ["cpu": "300m", "memory": "64Mi"],
                                                                                      "limits": ["cpu": "300m", "memory": "64Mi"]]]]]]
        let qos = await api.request(.PATCH, resize, guaranteed, contentType: "application/strategic-merge-patch+json")
        #expect(qos.status == 422 && "\(qos.body)".contains("Pod QOS Class may not change"), "\(qos.body)")
    }

    @Test func rollingUpdateStrategiesAreDefaultedWhenOnlyTheirTypeIsGiven() async throws {
        let api = try await InProcessAPI()
        let template: JSON = ["metadata": ["labels": ["app": "a"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]
        let strategies: [(String, JSON)] = [("typed", ["type": "RollingUpdate"]), ("empty", .emptyObject), ("half", ["rollingUpdate": ["maxSurge": 3]])]
        for (name, strategy) in strategies {
            let deployment = JSON.resource("apps/v1", "Deployment", name: name, namespace: "default", [
                "spec": ["selector": ["matchLabels": ["app": "a"]], "template": template, "strategy": strategy],
            ])
            let created = await api.request(.POST, "/apis/apps/v1/namespaces/default/deployments", deployment)
            #expect(created.status == 201, "\(created.body)")
            let stored = created.body[path: ["spec", "strategy"]]
            #expect(stored?["type"]?.stringValue == "RollingUpdate", "\(name): \(String(describing: stored))")
            #expect(stored?[path: ["rollingUpdate", "maxUnavailable"]]?.stringValue == "25%", "\(name): \(String(describing: stored))")
            #expect(stored?[path: ["rollingUpdate", "maxSurge"]] == (name == "half" ? .int(3) : .string("25%")), "\(name): \(String(describing: stored))")
        }
        let daemons = JSON.resource("apps/v1", "DaemonSet", name: "d", namespace: "default", [
            "spec": ["selector": ["matchLabels": ["app": "a"]], "template": template, "updateStrategy": ["type": "RollingUpdate"]],
        ])
        let daemon = await api.request(.POST, "/apis/apps/v1/namespaces/default/daemonsets", daemons)
        #expect(daemon.body[path: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]]?.intValue == 1, "\(daemon.body)")
    }

    @Test func aReplicationControllerWithoutSelectorSelectsItsTemplateLabels() async throws {
        let api = try await InProcessAPI()
        let rc = JSON.resource("v1", "ReplicationController", name: "rc", namespace: "default", [
            "spec": ["replicas": 1, "template": ["metadata": ["labels": ["name": "rc"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]]],
        ])
        let created = await api.request(.POST, "/api/v1/namespaces/default/replicationcontrollers", rc)
        #expect(created.status == 201, "\(created.body)")
        #expect(created.body[path: ["spec", "selector", "name"]]?.stringValue == "rc", "\(created.body)")
        #expect(created.body[path: ["metadata", "labels", "name"]]?.stringValue == "rc", "\(created.body)")
    }

    @Test func aContainerRequestMayNotExceedItsLimit() async throws {
        let api = try await InProcessAPI(controllers: true)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/default/serviceaccounts/default").status == 200 })
        let pod = JSON.resource("v1", "Pod", name: "p", namespace: "default", [
            "spec": ["containers": [["name": "c", "image": "busybox",
                                     "resources": ["requests": ["cpu": "600m"], "limits": ["cpu": "500m"]]]]],
        ])
        let refused = await api.request(.POST, "/api/v1/namespaces/default/pods", pod)
        #expect(refused.status == 422 && "\(refused.body)".contains("must be less than or equal to cpu limit of 500m"), "\(refused.body)")
    }

    @Test func aPriorityClassKeepsItsValue() async throws {
        let api = try await InProcessAPI()
        let path = "/apis/scheduling.k8s.io/v1/priorityclasses"
        let created = await api.request(.POST, path, .resource("scheduling.k8s.io/v1", "PriorityClass", name: "p1", ["value": 10]))
        #expect(created.status == 201 && created.body["preemptionPolicy"]?.stringValue == "PreemptLowerPriority")
        let patched = await api.request(.PATCH, path + "/p1", ["value": 100], contentType: "application/merge-patch+json")
        #expect(patched.status == 422 && "\(patched.body)".contains("may not be changed in an update"), "\(patched.body)")
        var replaced = created.body
        replaced["value"] = 100
        #expect(await api.request(.PUT, path + "/p1", replaced).status == 422)
        #expect(await api.request(.PATCH, path + "/p1", ["description": "updated"], contentType: "application/merge-patch+json").status == 200)
    }

    @Test func tablesShowTheKindsColumns() async throws {
        let api = try await InProcessAPI()
        #expect(await api.request(.POST, "/api/v1/namespaces/default/configmaps",
                                  .resource("v1", "ConfigMap", name: "m", namespace: "default", ["data": ["a": "1", "b": "2"]])).status == 201)
        let maps = await api.request(.GET, "/api/v1/namespaces/default/configmaps", accept: Self.table)
        #expect(maps.body["kind"]?.stringValue == "Table")
        #expect(maps.body["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Data", "Age"])
        #expect(maps.body["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.dropFirst().first?.intValue == 2)
        let namespaces = await api.request(.GET, "/api/v1/namespaces/default", accept: Self.table)
        #expect(namespaces.body["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Status", "Age"])
        #expect(namespaces.body["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.dropFirst().first?.stringValue == "Active")
    }
}
