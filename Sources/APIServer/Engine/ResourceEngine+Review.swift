extension ResourceEngine {
    /// POST to a resource that is not stored: `selfsubjectreviews` answers who the caller is;
    /// `bindings` assigns a pod to a node.
    func review(_ request: ResourceRequest) async throws -> HTTPResponse {
        var object = try request.bodyObject()
        try Self.checkTypeMeta(&object, request.resource)
        switch (request.resource.group, request.resource.plural) {
        case ("authentication.k8s.io", "selfsubjectreviews"):
            object["metadata"] = ["creationTimestamp": .string(Self.now())]
            object["status"] = ["userInfo": request.user.json]
            return .json(.created, object)
        case ("", "bindings"):
            return try await bind(object, request)
        default:
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// Sets a pod's `spec.nodeName` from a Binding; 409 if the pod is already bound.
    private func bind(_ binding: JSON, _ request: ResourceRequest) async throws -> HTTPResponse {
        guard let podName = binding[path: ["metadata", "name"]]?.stringValue,
              let node = binding[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw StatusError.invalid(kind: "Binding", group: "", name: "", causes: [
                .init(field: "target.name", type: "FieldValueRequired", message: "Required value"),
            ])
        }
        let podKey = RegistryKey(group: "", resource: "pods", namespace: request.info.namespace, name: podName).path
        let pods = ResourceDescriptor(group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true,
                                      shortNames: [], categories: [], subresources: [], verbs: [], hasSpec: true, hasStatus: true)
        guard let pod = try await store.get(podKey) else { throw StatusError.notFound(pods, name: podName) }
        if let bound = pod.object[path: ["spec", "nodeName"]]?.stringValue, !bound.isEmpty {
            throw StatusError.conflict(pods, name: podName, why: "pod \(podName) is already assigned to node \"\(bound)\"")
        }
        var updated = pod.object
        updated[path: ["spec", "nodeName"]] = .string(node)
        if !request.dryRun {
            guard case .written = try await store.update(podKey, updated, expectedRevision: pod.modRevision) else {
                throw StatusError.conflict(pods, name: podName)
            }
        }
        return .json(.created, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201])
    }
}
