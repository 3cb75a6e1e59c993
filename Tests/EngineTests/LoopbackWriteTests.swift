@testable import APIServer
import Foundation
import Testing

/// The bootstrap and the control loops write through the API as `system:skiff:<loop>`: their
/// writes pass admission, allocation and audit like a client's.
@Suite(.timeLimit(.minutes(1)))
struct LoopbackWriteTests {
    /// The audited writes of `user`, as "verb resource[/subresource] name".
    static func writes(_ events: [JSON], by user: String) -> [String] {
        events.filter {
            $0[path: ["user", "username"]]?.stringValue == user
                && ["create", "update", "patch", "delete"].contains($0["verb"]?.stringValue ?? "")
        }.map { event in
            let ref = event["objectRef"] ?? .emptyObject
            let resource = (ref["resource"]?.stringValue ?? "") + (ref["subresource"]?.stringValue.map { "/" + $0 } ?? "")
            return "\(event["verb"]?.stringValue ?? "") \(resource) \(ref["name"]?.stringValue ?? "")"
        }
    }

    @Test func theBootstrapWritesThroughTheAPI() async throws {
        let api = try await InProcessAPI(audit: true)
        let events = api.auditEvents()
        let bootstrap = Self.writes(events, by: "system:skiff:bootstrap")
        for name in APIServerBootstrap.defaultNamespaces {
            #expect(bootstrap.contains("create namespaces \(name)"), "\(bootstrap)")
        }
        let policy = Self.writes(events, by: "system:skiff:policy-reconciler")
        #expect(policy.contains("create clusterroles cluster-admin"))
        #expect(policy.contains("create clusterrolebindings cluster-admin"))
        // The namespace strategy's defaults, not a copy of them.
        let namespace = await api.request(.GET, "/api/v1/namespaces/kube-public")
        #expect(namespace.body[path: ["metadata", "labels", "kubernetes.io/metadata.name"]]?.stringValue == "kube-public")
        #expect(namespace.body[path: ["spec", "finalizers"]] == ["kubernetes"])
        #expect(namespace.body[path: ["status", "phase"]]?.stringValue == "Active")
        #expect(namespace.body[path: ["metadata", "managedFields"]]?.arrayValue?.first?["manager"]?.stringValue == "skiff-bootstrap",
                "the write has its own field manager")
    }

    @Test func controllersWriteUnderTheirOwnIdentity() async throws {
        let api = try await InProcessAPI(controllers: true, audit: true)
        #expect(await api.request(.POST, "/api/v1/namespaces", .resource("v1", "Namespace", name: "audited")).status == 201)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/audited/serviceaccounts/default").status == 200 })
        #expect(await api.request(.POST, "/api/v1/namespaces/audited/configmaps",
                                  .resource("v1", "ConfigMap", name: "inside", namespace: "audited")).status == 201)
        #expect(await api.request(.DELETE, "/api/v1/namespaces/audited").status == 200)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/audited").status == 404 })
        let events = api.auditEvents()
        let accounts = Self.writes(events, by: "system:skiff:serviceaccount-controller")
        #expect(accounts.contains("create serviceaccounts default"))
        #expect(accounts.contains("create configmaps kube-root-ca.crt"))
        let namespaces = Self.writes(events, by: "system:skiff:namespace-controller")
        #expect(namespaces.contains("delete configmaps inside"), "\(namespaces)")
        #expect(namespaces.contains("delete serviceaccounts default"))
        #expect(namespaces.contains("update namespaces/finalize audited"))
        #expect(Self.writes(events, by: "system:skiff:leader-election").contains("create leases skiff-controllers"))
        let loops = Set(events.compactMap { $0[path: ["user", "username"]]?.stringValue }.filter { $0.hasPrefix("system:skiff:") })
        #expect(loops.isSuperset(of: ["system:skiff:bootstrap", "system:skiff:namespace-controller", "system:skiff:serviceaccount-controller"]))
    }

    /// The README's example policy (`docs/examples/audit-policy.yaml`) drops the lease
    /// renewals and keeps the rest.
    @Test func theExampleAuditPolicyDropsLeaseRenewals() async throws {
        let policy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/examples/audit-policy.yaml").path
        let api = try await InProcessAPI(controllers: true, audit: true, auditPolicy: policy)
        let lease = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/skiff-controllers"
        var first: String?
        #expect(await api.eventually { first = await api.request(.GET, lease).resourceVersion; return first != nil })
        #expect(await api.eventually(.seconds(20)) { await api.request(.GET, lease).resourceVersion != first }, "the lease was renewed")
        #expect(await api.request(.POST, "/api/v1/namespaces", .resource("v1", "Namespace", name: "kept")).status == 201)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/kept/serviceaccounts/default").status == 200 })
        let events = api.auditEvents()
        let election = Self.writes(events, by: "system:skiff:leader-election")
        #expect(election.contains("create leases skiff-controllers"), "the lease's create stays: \(election)")
        #expect(!election.contains { $0.hasPrefix("update leases") }, "no renewal is logged: \(election)")
        #expect(Self.writes(events, by: "system:skiff:serviceaccount-controller").contains("create serviceaccounts default"))
        #expect(events.contains { $0[path: ["user", "username"]]?.stringValue == "admin" && $0["verb"]?.stringValue == "create" })
    }

    @Test func aNamespaceDeletionFreesItsServicesAddressesAtOnce() async throws {
        let api = try await InProcessAPI(controllers: true)
        #expect(await api.request(.POST, "/api/v1/namespaces", .resource("v1", "Namespace", name: "addresses")).status == 201)
        let service = JSON.resource("v1", "Service", name: "s", namespace: "addresses", [
            "spec": ["ports": [["port": 80]], "clusterIP": "10.96.7.7"],
        ])
        let created = await api.request(.POST, "/api/v1/namespaces/addresses/services", service)
        #expect(created.status == 201)
        #expect(created.body[path: ["spec", "clusterIP"]]?.stringValue == "10.96.7.7")
        var again = service
        again[path: ["metadata", "namespace"]] = "default"
        #expect(await api.request(.POST, "/api/v1/namespaces/default/services", again).status == 422, "the address is taken")
        #expect(await api.request(.DELETE, "/api/v1/namespaces/addresses").status == 200)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/addresses").status == 404 })
        let reused = await api.request(.POST, "/api/v1/namespaces/default/services", again)
        #expect(reused.status == 201, "the namespace controller's delete gave the address back: \(reused.body)")
    }
}
