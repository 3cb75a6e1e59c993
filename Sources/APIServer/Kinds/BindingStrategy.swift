/// core/v1 Bindings: not stored; a create assigns a pod to a node (sets its `spec.nodeName`),
/// 409 if the pod is already bound.
struct BindingStrategy: ResourceStrategy {
    func answerCreate(_ binding: JSON, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse? {
        guard let podName = binding[path: ["metadata", "name"]]?.stringValue,
              let node = binding[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw StatusError.invalid(kind: "Binding", group: "", name: "", causes: [
                .init(field: "target.name", type: "FieldValueRequired", message: "Required value"),
            ])
        }
        let podKey = RegistryKey(group: "", resource: "pods", namespace: request.info.namespace, name: podName).path
        guard let pods = engine.catalog.resource(group: "", version: "v1", plural: "pods") else {
            throw StatusError.internalError("pods are not served")
        }
        guard let pod = try await engine.store.get(podKey) else { throw StatusError.notFound(pods, name: podName) }
        if let bound = pod.object[path: ["spec", "nodeName"]]?.stringValue, !bound.isEmpty {
            throw StatusError.conflict(pods, name: podName, why: "pod \(podName) is already assigned to node \"\(bound)\"")
        }
        var updated = pod.object
        updated[path: ["spec", "nodeName"]] = .string(node)
        if !request.dryRun {
            guard case .written = try await engine.store.update(podKey, updated, expectedRevision: pod.modRevision) else {
                throw StatusError.conflict(pods, name: podName)
            }
        }
        return .json(.created, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201])
    }
}
