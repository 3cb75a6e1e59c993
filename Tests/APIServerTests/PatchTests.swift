import Testing
@testable import APIServer

@Suite(.timeLimit(.minutes(10))) struct PatchTests {
    let definitions = SchemaDefinitions(try! OpenAPIBuilder.loadDefinitions())
    var podSpec: SchemaNode { SchemaNode(definition: "io.k8s.api.core.v1.PodSpec", in: definitions)! }

    @Test func jsonPatchAppliesEveryOperation() throws {
        let document: JSON = ["a": [1, 2], "b": ["c": "d"], "e/f": 1, "g~h": 2]
        let patch: JSON = [
            ["op": "add", "path": "/a/1", "value": 9],
            ["op": "add", "path": "/a/-", "value": 3],
            ["op": "remove", "path": "/b/c"],
            ["op": "replace", "path": "/e~1f", "value": "x"],
            ["op": "move", "from": "/g~0h", "path": "/b/moved"],
            ["op": "copy", "from": "/a/0", "path": "/copied"],
            ["op": "test", "path": "/a", "value": [1, 9, 2, 3]],
        ]
        let result = try JSONPatch.apply(patch, to: document)
        #expect(result == ["a": [1, 9, 2, 3], "b": ["moved": 2], "e/f": "x", "copied": 1])
    }

    @Test func failingJSONPatchesAreErrors() {
        let document: JSON = ["a": 1]
        #expect(throws: StatusError.self) { try JSONPatch.apply([["op": "test", "path": "/a", "value": 2]], to: document) }
        #expect(throws: StatusError.self) { try JSONPatch.apply([["op": "replace", "path": "/missing", "value": 2]], to: document) }
        #expect(throws: StatusError.self) { try JSONPatch.apply([["op": "frobnicate", "path": "/a"]], to: document) }
        #expect(throws: StatusError.self) { try JSONPatch.apply(["op": "add"], to: document) }
    }

    @Test func mergePatchFollowsRFC7386() {
        let target: JSON = ["a": "b", "c": ["d": "e", "f": "g"], "list": [1, 2]]
        let patch: JSON = ["a": "z", "c": ["f": nil], "list": [3]]
        #expect(MergePatch.apply(patch, to: target) == ["a": "z", "c": ["d": "e"], "list": [3]])
    }

    @Test func strategicMergePatchMergesListsByKey() throws {
        let original: JSON = ["containers": [
            ["name": "app", "image": "app:1", "env": [["name": "A", "value": "1"], ["name": "B", "value": "2"]]],
            ["name": "side", "image": "side:1"],
        ], "tolerations": [["key": "k"]]]
        let patch: JSON = ["containers": [
            ["name": "app", "image": "app:2", "env": [["name": "B", "$patch": "delete"], ["name": "C", "value": "3"]]],
            ["name": "side", "$patch": "delete"],
            ["name": "new", "image": "new:1"],
        ], "tolerations": [["key": "other"]]]
        let result = try StrategicMergePatch.apply(patch, to: original, schema: podSpec)
        #expect(result["containers"] == [
            ["name": "app", "image": "app:2", "env": [["name": "A", "value": "1"], ["name": "C", "value": "3"]]],
            ["name": "new", "image": "new:1"],
        ])
        #expect(result["tolerations"] == [["key": "other"]], "lists without a merge strategy are replaced")
    }

    @Test func strategicMergePatchDirectives() throws {
        let meta = SchemaNode(definition: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", in: definitions)
        let original: JSON = ["finalizers": ["a", "b"], "labels": ["x": "1", "y": "2"]]
        let union = try StrategicMergePatch.apply(["finalizers": ["c", "a"]], to: original, schema: meta)
        #expect(union["finalizers"] == ["a", "b", "c"], "primitive merge lists are unions")
        let removed = try StrategicMergePatch.apply(["$deleteFromPrimitiveList/finalizers": ["a"]], to: original, schema: meta)
        #expect(removed["finalizers"] == ["b"])
        let replaced = try StrategicMergePatch.apply(["labels": ["$patch": "replace", "z": "3"]], to: original, schema: meta)
        #expect(replaced["labels"] == ["z": "3"])
        let ordered = try StrategicMergePatch.apply(
            ["containers": [["name": "b", "image": "b:2"]], "$setElementOrder/containers": [["name": "b"], ["name": "a"]]],
            to: ["containers": [["name": "a", "image": "a"], ["name": "b", "image": "b"]]], schema: podSpec)
        #expect(ordered["containers"] == [["name": "b", "image": "b:2"], ["name": "a", "image": "a"]])
        let listReplaced = try StrategicMergePatch.apply(
            ["containers": [["$patch": "replace"], ["name": "only", "image": "o"]]],
            to: ["containers": [["name": "a", "image": "a"]]], schema: podSpec)
        #expect(listReplaced["containers"] == [["name": "only", "image": "o"]], "a $patch: replace element replaces the list")
        let merged = try StrategicMergePatch.apply(["nodeSelector": ["$patch": "merge", "b": "2"]],
                                                   to: ["nodeSelector": ["a": "1"]], schema: podSpec)
        #expect(merged["nodeSelector"] == ["a": "1", "b": "2"])
        let deleted = try StrategicMergePatch.apply(["nodeSelector": ["$patch": "delete"]], to: ["nodeSelector": ["a": "1"]], schema: podSpec)
        #expect(deleted["nodeSelector"] == nil)
        let strategy = SchemaNode(definition: "io.k8s.api.apps.v1.DeploymentSpec", in: definitions)
        let retained = try StrategicMergePatch.apply(
            ["strategy": ["type": "Recreate", "$retainKeys": ["type"]]],
            to: ["strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1]]], schema: strategy)
        #expect(retained["strategy"] == ["type": "Recreate"])
    }
}
