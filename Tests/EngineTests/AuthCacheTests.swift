@testable import APIServer
import Foundation
import Testing

/// Authentication and authorization answer from memory, and what they remember goes when
/// what it was based on changes.
@Suite(.timeLimit(.minutes(1)))
struct AuthCacheTests {
    static let maps = "/api/v1/namespaces/default/configmaps"

    @Test func aServiceAccountTokenIsVerifiedOnceAndStopsWithItsAccountOrPod() async throws {
        let api = try await InProcessAPI()
        #expect(await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts",
                                  .resource("v1", "ServiceAccount", name: "robot", namespace: "default")).status == 201)
        let pod = await api.request(.POST, "/api/v1/namespaces/default/pods", .resource("v1", "Pod", name: "p", namespace: "default", [
            "spec": ["serviceAccountName": "robot", "containers": [["name": "c", "image": "busybox"]]],
        ]))
        #expect(pod.status == 201, "\(pod.body)")
        func issue(_ spec: JSON) async throws -> String {
            let issued = await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts/robot/token",
                                           .resource("authentication.k8s.io/v1", "TokenRequest", ["spec": spec]))
            return try #require(issued.body[path: ["status", "token"]]?.stringValue, "\(issued.body)")
        }
        let plain = try await issue(["expirationSeconds": 3600])
        let bound = try await issue(["expirationSeconds": 3600, "boundObjectRef": [
            "kind": "Pod", "apiVersion": "v1", "name": "p", "uid": pod.body[path: ["metadata", "uid"]] ?? "",
        ]])
        let before = api.bootstrap.verifiedTokens.count
        for _ in 0..<5 {
            #expect(await api.request(.GET, Self.maps, token: plain).status == 403, "authenticated, without bindings")
            #expect(await api.request(.GET, Self.maps, token: bound).status == 403)
        }
        #expect(api.bootstrap.verifiedTokens.count == before + 2, "each token's signature checked once")
        // A token whose signature was tampered with is refused, and so it stays.
        let forged = String(plain.dropLast(2)) + (plain.hasSuffix("AA") ? "BB" : "AA")
        #expect(await api.request(.GET, Self.maps, token: forged).status == 401)
        #expect(await api.request(.GET, Self.maps, token: forged).status == 401)

        // The pod goes: the token bound to it stops; the plain one goes on.
        #expect(await api.request(.DELETE, "/api/v1/namespaces/default/pods/p?gracePeriodSeconds=0").status == 200)
        #expect(await api.eventually { await api.request(.GET, Self.maps, token: bound).status == 401 })
        #expect(await api.request(.GET, Self.maps, token: plain).status == 403)
        // The account goes: its token stops, though its signature is remembered.
        #expect(await api.request(.DELETE, "/api/v1/namespaces/default/serviceaccounts/robot").status == 200)
        #expect(await api.eventually { await api.request(.GET, Self.maps, token: plain).status == 401 })
        // An account of the same name made again is another account (another uid).
        #expect(await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts",
                                  .resource("v1", "ServiceAccount", name: "robot", namespace: "default")).status == 201)
        #expect(await api.request(.GET, Self.maps, token: plain).status == 401)
    }

    @Test func anAllowedRequestIsRememberedUntilThePolicyChanges() async throws {
        let api = try await InProcessAPI()
        let viewer = InProcessAPI.viewerToken
        #expect(await api.request(.GET, Self.maps, token: viewer).status == 403)
        #expect(await api.request(.POST, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
                                  .resource("rbac.authorization.k8s.io/v1", "Role", name: "reader", namespace: "default", [
                                      "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]]],
                                  ])).status == 201)
        #expect(await api.request(.POST, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                                  .resource("rbac.authorization.k8s.io/v1", "RoleBinding", name: "reader", namespace: "default", [
                                      "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"],
                                      "subjects": [["kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "viewer"]],
                                  ])).status == 201)
        // (At once, unless the watch of the policy is over 2 s behind, as it can be with
        // dozens of servers starting side by side in this suite.)
        #expect(await api.eventually { await api.request(.GET, Self.maps, token: viewer).status == 200 })
        #expect(await api.request(.GET, Self.maps, token: viewer).status == 200)
        #expect(api.bootstrap.policyCache.rememberedDecisions >= 1)
        // Another verb is not covered by what was remembered.
        #expect(await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", name: "x", namespace: "default"), token: viewer).status == 403)
        // The role loses the verb: the remembered decision goes with the policy it was made on.
        #expect(await api.request(.PATCH, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/reader",
                                  ["rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]]]],
                                  contentType: "application/merge-patch+json").status == 200)
        #expect(await api.eventually { await api.request(.GET, Self.maps, token: viewer).status == 403 })
    }
}
