@testable import APIServer
import Foundation
import Testing

/// The verbs' semantics, in process on the in-memory store: resourceVersion rules, conflicts,
/// dryRun, generateName, finalizers and status resets.
@Suite(.timeLimit(.minutes(1)))
struct EngineVerbTests {
    static let maps = "/api/v1/namespaces/default/configmaps"
    static let deployments = "/apis/apps/v1/namespaces/default/deployments"

    static func map(_ name: String, _ data: [String: JSON] = [:]) -> JSON {
        .resource("v1", "ConfigMap", name: name, namespace: "default", ["data": .object(data)])
    }

    static func deployment(_ name: String, replicas: Int64 = 1) -> JSON {
        .resource("apps/v1", "Deployment", name: name, namespace: "default", [
            "spec": ["replicas": .int(replicas), "selector": ["matchLabels": ["app": .string(name)]],
                     "template": ["metadata": ["labels": ["app": .string(name)]],
                                  "spec": ["containers": [["name": "c", "image": "busybox"]]]]],
            "status": ["replicas": 7, "readyReplicas": 7],
        ])
    }

    @Test func updatesAreConditionalOnTheResourceVersion() async throws {
        let api = try await InProcessAPI()
        let created = await api.request(.POST, Self.maps, Self.map("cm", ["a": "1"]))
        #expect(created.status == 201)
        let rv = try #require(created.resourceVersion)

        var first = created.body
        first["data"] = ["a": "2"]
        let updated = await api.request(.PUT, Self.maps + "/cm", first)
        #expect(updated.status == 200)
        #expect(updated.resourceVersion != rv)

        var stale = created.body
        stale["data"] = ["a": "3"]
        let conflict = await api.request(.PUT, Self.maps + "/cm", stale)
        #expect(conflict.status == 409)
        #expect(conflict.reason == "Conflict")
        #expect(conflict.body["kind"]?.stringValue == "Status")

        var unconditional = Self.map("cm", ["a": "4"])
        unconditional[path: ["metadata", "resourceVersion"]] = nil
        #expect(await api.request(.PUT, Self.maps + "/cm", unconditional).status == 200, "a ConfigMap may be updated without a resourceVersion")
        #expect(await api.request(.GET, Self.maps + "/cm").body[path: ["data", "a"]]?.stringValue == "4")

        let patched = await api.request(.PATCH, Self.maps + "/cm", ["metadata": ["resourceVersion": .string(rv)], "data": ["a": "5"]],
                                        contentType: "application/merge-patch+json")
        #expect(patched.status == 409, "a patch that names an old resourceVersion conflicts")
    }

    @Test func readsHonourResourceVersionAndCompaction() async throws {
        let api = try await InProcessAPI()
        let created = await api.request(.POST, Self.maps, Self.map("cm", ["a": "1"]))
        let rv = try #require(created.resourceVersion.flatMap { Int64($0) })
        var body = created.body
        body["data"] = ["a": "2"]
        let updated = await api.request(.PUT, Self.maps + "/cm", body)
        let rv2 = try #require(updated.resourceVersion.flatMap { Int64($0) })

        let exact = await api.request(.GET, Self.maps + "?resourceVersion=\(rv)&resourceVersionMatch=Exact")
        #expect(exact.status == 200)
        let items = exact.body["items"]?.arrayValue ?? []
        #expect(items.first { $0[path: ["metadata", "name"]]?.stringValue == "cm" }?[path: ["data", "a"]]?.stringValue == "1",
                "an exact list reads the old state")
        #expect(exact.body[path: ["metadata", "resourceVersion"]]?.stringValue == String(rv))

        let future = await api.request(.GET, Self.maps + "?resourceVersion=\(rv2 + 1000)&resourceVersionMatch=Exact")
        #expect(future.status == 504, "a resourceVersion the store has not reached")

        var again = updated.body
        again["data"] = ["a": "3"]
        let rv3 = try #require(await api.request(.PUT, Self.maps + "/cm", again).resourceVersion.flatMap { Int64($0) })
        api.store.compact(to: rv3)
        let compacted = await api.request(.GET, Self.maps + "?resourceVersion=\(rv)&resourceVersionMatch=Exact")
        #expect(compacted.status == 410)
        #expect(compacted.reason == "Expired")

        let events = try await api.watch(Self.maps + "?watch=true&resourceVersion=\(rv)") { !$0.isEmpty }
        #expect(events.first?["type"]?.stringValue == "ERROR")
        #expect(events.first?[path: ["object", "code"]]?.intValue == 410)
    }

    @Test func watchesFromAResourceVersionSeeTheChangesAfterIt() async throws {
        let api = try await InProcessAPI()
        let created = await api.request(.POST, Self.maps, Self.map("w1"))
        let rv = try #require(created.resourceVersion)
        _ = await api.request(.POST, Self.maps, Self.map("w2", ["x": "y"]))
        _ = await api.request(.DELETE, Self.maps + "/w1")
        let events = try await api.watch(Self.maps + "?watch=true&resourceVersion=\(rv)") { $0.count >= 2 }
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "DELETED"])
        #expect(events.map { $0[path: ["object", "metadata", "name"]]?.stringValue ?? "" } == ["w2", "w1"])

        let selected = try await api.watch(Self.maps + "?watch=true&resourceVersion=\(rv)&fieldSelector=metadata.name%3Dw2") { !$0.isEmpty }
        #expect(selected.count == 1)
        #expect(selected.first?[path: ["object", "metadata", "name"]]?.stringValue == "w2")
    }

    @Test func dryRunChangesNothing() async throws {
        let api = try await InProcessAPI()
        let before = try await api.store.currentRevision()
        let dry = await api.request(.POST, Self.maps + "?dryRun=All", Self.map("dry"))
        #expect(dry.status == 201)
        #expect(dry.name == "dry")
        #expect(await api.request(.GET, Self.maps + "/dry").status == 404)
        #expect(try await api.store.currentRevision() == before, "no revision was spent")

        let real = await api.request(.POST, Self.maps, Self.map("real", ["a": "1"]))
        var changed = real.body
        changed["data"] = ["a": "changed"]
        #expect(await api.request(.PUT, Self.maps + "/real?dryRun=All", changed).body[path: ["data", "a"]]?.stringValue == "changed")
        #expect(await api.request(.DELETE, Self.maps + "/real?dryRun=All").status == 200)
        let stored = await api.request(.GET, Self.maps + "/real")
        #expect(stored.status == 200)
        #expect(stored.body[path: ["data", "a"]]?.stringValue == "1")
        #expect(stored.resourceVersion == real.resourceVersion)
    }

    @Test func generateNameMakesAFreshName() async throws {
        let api = try await InProcessAPI()
        var names = Set<String>()
        for _ in 0..<5 {
            let answer = await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", generateName: "gen-", namespace: "default"))
            #expect(answer.status == 201)
            let name = try #require(answer.name)
            #expect(name.hasPrefix("gen-"))
            #expect(name.count == "gen-".count + 5)
            names.insert(name)
        }
        #expect(names.count == 5)
        let missing = await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", namespace: "default"))
        #expect(missing.status == 422, "neither name nor generateName")
        let invalid = await api.request(.POST, Self.maps, Self.map("Not_A_Name"))
        #expect(invalid.status == 422)
        #expect(invalid.reason == "Invalid")
    }

    @Test func finalizersHoldADeletionUntilRemoved() async throws {
        let api = try await InProcessAPI()
        var object = Self.map("held")
        object[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        #expect(await api.request(.POST, Self.maps, object).status == 201)
        let deleting = await api.request(.DELETE, Self.maps + "/held")
        #expect(deleting.status == 200)
        #expect(deleting.body[path: ["metadata", "deletionTimestamp"]] != nil)
        let held = await api.request(.GET, Self.maps + "/held")
        #expect(held.status == 200, "the finalizer keeps it")
        #expect(held.body[path: ["metadata", "deletionTimestamp"]] != nil)

        var added = held.body
        added[path: ["metadata", "finalizers"]] = ["example.com/hold", "example.com/new"]
        #expect(await api.request(.PUT, Self.maps + "/held", added).status == 422, "no new finalizer on an object being deleted")

        var released = held.body
        released[path: ["metadata", "finalizers"]] = []
        #expect(await api.request(.PUT, Self.maps + "/held", released).status == 200)
        #expect(await api.request(.GET, Self.maps + "/held").status == 404, "the last finalizer's removal deletes it")
    }

    @Test func statusIsResetOnCreateAndKeptApartFromSpec() async throws {
        let api = try await InProcessAPI()
        let created = await api.request(.POST, Self.deployments, Self.deployment("d"))
        #expect(created.status == 201)
        #expect(created.body[path: ["status", "readyReplicas"]] == nil, "status is not taken from a create")
        #expect(created.body[path: ["metadata", "generation"]]?.intValue == 1)

        var mainUpdate = created.body
        mainUpdate[path: ["spec", "replicas"]] = 3
        mainUpdate["status"] = ["replicas": 9]
        let updated = await api.request(.PUT, Self.deployments + "/d", mainUpdate)
        #expect(updated.status == 200)
        #expect(updated.body[path: ["spec", "replicas"]]?.intValue == 3)
        #expect(updated.body[path: ["status", "replicas"]] == nil, "the main resource does not write status")
        #expect(updated.body[path: ["metadata", "generation"]]?.intValue == 2, "a spec change moves the generation")

        var statusUpdate = updated.body
        statusUpdate[path: ["spec", "replicas"]] = 99
        statusUpdate["status"] = ["replicas": 3, "observedGeneration": 2]
        let status = await api.request(.PUT, Self.deployments + "/d/status", statusUpdate)
        #expect(status.status == 200)
        #expect(status.body[path: ["status", "replicas"]]?.intValue == 3)
        #expect(status.body[path: ["spec", "replicas"]]?.intValue == 3, "the status subresource does not write spec")
        #expect(status.body[path: ["metadata", "generation"]]?.intValue == 2)
    }

    @Test func aViewerReadsButCannotWrite() async throws {
        let api = try await InProcessAPI(controllers: true)
        #expect(await api.request(.POST, Self.maps, Self.map("v")).status == 201)
        let binding: JSON = .resource("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", name: "viewer-view", [
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"],
            "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "viewer"]],
        ])
        #expect(await api.request(.POST, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding).status == 201)
        #expect(await api.eventually { await api.request(.GET, Self.maps + "/v", token: InProcessAPI.viewerToken).status == 200 })
        let write = await api.request(.DELETE, Self.maps + "/v", token: InProcessAPI.viewerToken)
        #expect(write.status == 403)
        #expect(write.reason == "Forbidden")
        #expect(await api.request(.GET, Self.maps + "/v").status == 200)
        #expect(await api.request(.GET, Self.maps + "/v", token: "wrong-token").status == 401)
    }

    /// An update without a resourceVersion is not refused because a controller wrote the
    /// object between the engine's read and its write (kube-apiserver retries it): a store
    /// whose update conflicts once for the key shows it.
    @Test func anUnconditionalUpdateIsMadeAgainAfterARace() async throws {
        let api = try await InProcessAPI(wrap: { InterceptingObjectStore.racing($0, key: RegistryKey(group: "", resource: "configmaps", namespace: "default", name: "raced").path) })
        #expect(await api.request(.POST, Self.maps, Self.map("raced", ["a": "1"])).status == 201)
        var unconditional = Self.map("raced", ["a": "2"])
        unconditional[path: ["metadata", "resourceVersion"]] = nil
        let updated = await api.request(.PUT, Self.maps + "/raced", unconditional)
        #expect(updated.status == 200, "\(updated.body)")
        #expect(updated.body[path: ["data", "a"]]?.stringValue == "2")
        #expect(updated.body[path: ["data", "raced"]]?.stringValue == nil)

        let current = await api.request(.GET, Self.maps + "/raced")
        var conditional = current.body
        conditional["data"] = ["a": "3"]
        #expect(await api.request(.PUT, Self.maps + "/raced", conditional).status == 409,
                "with a resourceVersion, the other writer's change is a conflict")
    }
}
