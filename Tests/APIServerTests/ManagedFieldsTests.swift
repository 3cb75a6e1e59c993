import Testing
@testable import APIServer

@Suite(.timeLimit(.minutes(10))) struct ManagedFieldsTests {
    let definitions = SchemaDefinitions(try! OpenAPIBuilder.loadDefinitions())
    var deployment: SchemaNode { SchemaNode(definition: "io.k8s.api.apps.v1.Deployment", in: definitions)! }

    func config(replicas: Int64, containers: [String]) -> JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
         "spec": ["replicas": .int(replicas), "template": ["spec": ["containers": .array(containers.map { ["name": .string($0), "image": "img"] })]]]]
    }

    func managers(_ object: JSON) -> [String] {
        ManagedFields(of: object).entries.map { "\($0.manager)/\($0.operation)" }.sorted()
    }

    @Test func fieldPathsFollowListTypes() {
        let paths = FieldPaths.of(config(replicas: 1, containers: ["a"]), schema: deployment)
        #expect(paths.contains(["f:spec", "f:replicas"]))
        #expect(paths.contains(["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"a"}"#, "."]))
        #expect(paths.contains(["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"a"}"#, "f:image"]))
        #expect(!paths.contains(["f:metadata", "f:name"]), "identity fields have no owner")
        let trie = FieldPaths.fieldsV1(paths)
        #expect(FieldPaths.paths(fromFieldsV1: trie) == paths, "FieldsV1 round-trips")
    }

    @Test func applyConflictsForceAndRemoval() throws {
        let first = try ManagedFields.apply(config(replicas: 2, containers: ["a", "b"]), to: nil, manager: "alice",
                                            apiVersion: "apps/v1", force: false, schema: deployment)
        #expect(managers(first) == ["alice/Apply"])
        // Another manager applying the same value co-owns it; a different value conflicts.
        let shared = try ManagedFields.apply(config(replicas: 2, containers: ["a"]), to: first, manager: "bob",
                                             apiVersion: "apps/v1", force: false, schema: deployment)
        #expect(managers(shared) == ["alice/Apply", "bob/Apply"])
        #expect { try ManagedFields.apply(config(replicas: 5, containers: ["a"]), to: shared, manager: "bob",
                                          apiVersion: "apps/v1", force: false, schema: deployment) } throws: { error in
            guard let status = error as? StatusError else { return false }
            return status.code == 409 && status.message.contains(#"conflict with "alice" using apps/v1: .spec.replicas"#)
        }
        let forced = try ManagedFields.apply(config(replicas: 5, containers: ["a"]), to: shared, manager: "bob",
                                             apiVersion: "apps/v1", force: true, schema: deployment)
        #expect(forced[path: ["spec", "replicas"]] == 5)
        // Alice stops applying container b, which no one else owns: it goes. Replicas is now
        // bob's, so it stays although alice drops it too.
        let dropped = try ManagedFields.apply(config(replicas: 5, containers: ["a"]).removing(["spec", "replicas"]), to: forced,
                                              manager: "alice", apiVersion: "apps/v1", force: false, schema: deployment)
        let names = (dropped[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names == ["a"])
        #expect(dropped[path: ["spec", "replicas"]] == 5)
    }

    @Test func applyMergesSetsAndReplacesAtomicLists() throws {
        let pod = SchemaNode(definition: "io.k8s.api.core.v1.Pod", in: definitions)!
        let live: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "finalizers": ["x"]],
                          "spec": ["containers": [["name": "c", "image": "i", "args": ["a", "b"]]]]]
        let config: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "finalizers": ["y"]],
                            "spec": ["containers": [["name": "c", "args": ["z"]]]]]
        let result = try ManagedFields.apply(config, to: live, manager: "m", apiVersion: "v1", force: true, schema: pod)
        #expect(result[path: ["metadata", "finalizers"]] == ["x", "y"], "sets merge as unions")
        #expect(result[path: ["spec", "containers"]] == [["name": "c", "image": "i", "args": ["z"]]],
                "map-list elements merge by key; atomic lists are replaced")
        let paths = FieldPaths.of(config, schema: pod)
        #expect(paths.contains(["f:metadata", "f:finalizers", #"v:"y""#]))
        #expect(paths.contains(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:args"]), "an atomic list is one field")
    }

    @Test func updatesMoveOwnershipOfWhatTheyChange() throws {
        var created = config(replicas: 1, containers: ["a"])
        ManagedFields.recordUpdate(old: nil, new: &created, manager: "creator", apiVersion: "apps/v1", subresource: "", schema: deployment)
        var scaled = created
        scaled[path: ["spec", "replicas"]] = 3
        ManagedFields.recordUpdate(old: created, new: &scaled, manager: "scaler", apiVersion: "apps/v1", subresource: "", schema: deployment)
        let entries = ManagedFields(of: scaled).entries
        #expect(entries.first { $0.manager == "scaler" }?.fields == [["f:spec", "f:replicas"]])
        #expect(entries.first { $0.manager == "creator" }?.fields.contains(["f:spec", "f:replicas"]) == false)
    }
}

extension JSON {
    func removing(_ path: [String]) -> JSON {
        var copy = self
        copy[path: path] = nil
        return copy
    }
}
