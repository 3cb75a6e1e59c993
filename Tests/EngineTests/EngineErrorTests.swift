@testable import APIServer
import Foundation
import Synchronization
import Testing

/// Failures come out in the client's terms instead of being swallowed.
@Suite(.timeLimit(.minutes(1)))
struct EngineErrorTests {
    @Test func aStorageFailureWhileCheckingATokenIsA503NotA401() async throws {
        let faulty = Mutex<InterceptingObjectStore?>(nil)
        let api = try await InProcessAPI { memory in
            let store = InterceptingObjectStore(memory)
            faulty.withLock { $0 = store }
            return store
        }
        let store = try #require(faulty.withLock { $0 })
        func issueToken(_ account: String) async throws -> String {
            #expect(await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts",
                                      .resource("v1", "ServiceAccount", name: account, namespace: "default")).status == 201)
            let issued = await api.request(.POST, "/api/v1/namespaces/default/serviceaccounts/\(account)/token",
                                           .resource("authentication.k8s.io/v1", "TokenRequest", ["spec": ["expirationSeconds": 3600]]))
            return try #require(issued.body[path: ["status", "token"]]?.stringValue, "\(issued.body)")
        }
        let token = try await issueToken("robot")
        #expect(await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: token).status == 403,
                "a valid token of a user without bindings")
        // A token of an account deleted since: refused once the server has seen the deletion.
        let gone = try await issueToken("gone")
        #expect(await api.request(.DELETE, "/api/v1/namespaces/default/serviceaccounts/gone").status == 200)
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: gone).status == 401 })

        store.failReads { _ in true }
        // A known account's token is checked from memory: no read, no failure.
        #expect(await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: token).status == 403,
                "a token whose account the server follows needs no read")
        // An account the server does not know of: it cannot tell whether it missed its
        // creation, so it says it cannot check now rather than that the credential is bad.
        let unavailable = await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: gone)
        #expect(unavailable.status == 503, "the credential could not be checked: \(unavailable.body)")
        #expect(unavailable.body["kind"]?.stringValue == "Status")
        let review = await api.request(.POST, "/apis/authentication.k8s.io/v1/tokenreviews",
                                       .resource("authentication.k8s.io/v1", "TokenReview", ["spec": ["token": .string(gone)]]))
        #expect(review.status == 503, "a TokenReview does not answer authenticated: false for a storage failure")

        store.failReads { _ in false }
        #expect(await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: gone).status == 401)
        #expect(await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: token).status == 403)
        #expect(await api.request(.GET, "/api/v1/namespaces/default/configmaps", token: "not-a-token").status == 401)
    }

    @Test func aDefinitionWithAPatternThatDoesNotCompileIsRefused() async throws {
        let api = try await InProcessAPI()
        func definition(_ pattern: String) -> JSON {
            .resource("apiextensions.k8s.io/v1", "CustomResourceDefinition", name: "gadgets.example.com", [
                "spec": [
                    "group": "example.com", "scope": "Namespaced",
                    "names": ["plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"],
                    "versions": [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": [
                        "type": "object",
                        "properties": ["spec": ["type": "object", "properties": ["code": ["type": "string", "pattern": .string(pattern)]]]],
                    ]]]],
                ],
            ])
        }
        let refused = await api.request(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition("([a-z"))
        #expect(refused.status == 422, "\(refused.body)")
        let causes = refused.body[path: ["details", "causes"]]?.arrayValue ?? []
        #expect(causes.contains { ($0["field"]?.stringValue ?? "").hasSuffix(".properties[code].pattern") }, "\(causes)")
        #expect(await api.request(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition("^[a-z]+$")).status == 201)
    }

    @Test func schemaPatternsAreCompiledOnceAndABadOneFailsTheValue() {
        #expect(SchemaPatterns.regex("^[a-z]+$") != nil)
        #expect(SchemaPatterns.regex("^[a-z]+$") === SchemaPatterns.regex("^[a-z]+$"), "the compiled pattern is kept")
        #expect(SchemaPatterns.regex("([a-z") == nil)
    }
}
