@testable import APIServer
import Foundation
import Testing

/// Deletion with propagation, in process on the in-memory store with the control loops
/// running: the garbage collector finishes Background, Foreground and Orphan deletions.
@Suite(.timeLimit(.minutes(1)))
struct EngineDeletionTests {
    static let maps = "/api/v1/namespaces/default/configmaps"

    /// Creates an owner and two dependents; returns the owner's uid.
    static func family(_ api: InProcessAPI, _ owner: String) async throws -> String {
        let created = await api.request(.POST, maps, .resource("v1", "ConfigMap", name: owner, namespace: "default"))
        let uid = try #require(created.body[path: ["metadata", "uid"]]?.stringValue)
        for child in ["\(owner)-a", "\(owner)-b"] {
            var object = JSON.resource("v1", "ConfigMap", name: child, namespace: "default")
            object[path: ["metadata", "ownerReferences"]] = [["apiVersion": "v1", "kind": "ConfigMap", "name": .string(owner),
                                                               "uid": .string(uid), "blockOwnerDeletion": true]]
            #expect(await api.request(.POST, maps, object).status == 201)
        }
        return uid
    }

    static func exists(_ api: InProcessAPI, _ name: String) async -> Bool {
        await api.request(.GET, maps + "/" + name).status == 200
    }

    @Test func backgroundDeletionRemovesTheDependentsAfterTheOwner() async throws {
        let api = try await InProcessAPI(controllers: true)
        _ = try await Self.family(api, "bg")
        let deleted = await api.request(.DELETE, Self.maps + "/bg", ["kind": "DeleteOptions", "apiVersion": "v1",
                                                                      "propagationPolicy": "Background"])
        #expect(deleted.status == 200)
        #expect(await !Self.exists(api, "bg"), "the owner goes at once")
        #expect(await api.eventually {
            let a = await Self.exists(api, "bg-a")
            let b = await Self.exists(api, "bg-b")
            return !a && !b
        }, "the collector removes the dependents")
    }

    @Test func foregroundDeletionWaitsForTheDependents() async throws {
        let api = try await InProcessAPI(controllers: true)
        _ = try await Self.family(api, "fg")
        let deleting = await api.request(.DELETE, Self.maps + "/fg?propagationPolicy=Foreground")
        #expect(deleting.status == 200)
        #expect(deleting.body[path: ["metadata", "finalizers"]]?.arrayValue?.contains("foregroundDeletion") == true)
        #expect(deleting.body[path: ["metadata", "deletionTimestamp"]] != nil)
        #expect(await api.eventually { await !Self.exists(api, "fg") }, "the owner goes once its dependents are gone")
        #expect(await !Self.exists(api, "fg-a"))
        #expect(await !Self.exists(api, "fg-b"))
    }

    @Test func orphanDeletionKeepsTheDependentsWithoutTheReference() async throws {
        let api = try await InProcessAPI(controllers: true)
        _ = try await Self.family(api, "or")
        #expect(await api.request(.DELETE, Self.maps + "/or?propagationPolicy=Orphan").status == 200)
        #expect(await api.eventually { await !Self.exists(api, "or") })
        #expect(await api.eventually {
            let child = await api.request(.GET, Self.maps + "/or-a")
            return child.status == 200 && child.body[path: ["metadata", "ownerReferences"]] == nil
        }, "the dependent stays, its reference to the owner removed")
        #expect(await Self.exists(api, "or-b"))
    }

    @Test func deleteCollectionDeletesWhatTheSelectorMatches() async throws {
        let api = try await InProcessAPI()
        for (name, tier) in [("x1", "a"), ("x2", "a"), ("x3", "b")] {
            var object = JSON.resource("v1", "ConfigMap", name: name, namespace: "default")
            object[path: ["metadata", "labels"]] = ["tier": .string(tier)]
            #expect(await api.request(.POST, Self.maps, object).status == 201)
        }
        let answer = await api.request(.DELETE, Self.maps + "?labelSelector=tier%3Da")
        #expect(answer.status == 200)
        #expect(await !Self.exists(api, "x1"))
        #expect(await !Self.exists(api, "x2"))
        #expect(await Self.exists(api, "x3"))
        let precondition = await api.request(.DELETE, Self.maps + "/x3", ["kind": "DeleteOptions", "apiVersion": "v1",
                                                                           "preconditions": ["uid": "not-its-uid"]])
        #expect(precondition.status == 409, "a uid precondition that does not hold")
        #expect(await Self.exists(api, "x3"))
    }

    @Test func aNamespaceDeletionEmptiesTheNamespace() async throws {
        let api = try await InProcessAPI(controllers: true)
        #expect(await api.request(.POST, "/api/v1/namespaces", .resource("v1", "Namespace", name: "doomed")).status == 201)
        #expect(await api.request(.POST, "/api/v1/namespaces/doomed/configmaps",
                                  .resource("v1", "ConfigMap", name: "inside", namespace: "doomed")).status == 201)
        #expect(await api.request(.DELETE, "/api/v1/namespaces/doomed").status == 200)
        let refused = await api.request(.POST, "/api/v1/namespaces/doomed/configmaps",
                                        .resource("v1", "ConfigMap", name: "late", namespace: "doomed"))
        #expect(refused.status == 403 || refused.status == 404, "no new content in a terminating namespace")
        #expect(await api.eventually { await api.request(.GET, "/api/v1/namespaces/doomed").status == 404 },
                "the namespace controller empties and finalizes it")
        #expect(await api.request(.GET, "/api/v1/namespaces/doomed/configmaps/inside").status == 404)
    }
}
