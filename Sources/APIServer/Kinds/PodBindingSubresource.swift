/// POST `pods/NAME/binding` (core/v1 Binding): assigns the pod to the node the Binding names,
/// as kube-scheduler does. The pod gets `spec.nodeName`, the Binding's annotations and a
/// `PodScheduled=True` condition, through the update pipeline as a write to the `binding`
/// subresource (admission, managedFields, audit). 409 if the pod is already assigned or is
/// being deleted, or if the Binding's uid or resourceVersion preconditions do not match.
struct PodBindingSubresource: SubresourceHandler {
    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        let (_, binding) = try posted(request, kind: "Binding")
        return try await Self.assign(binding, request, engine: engine)
    }

    /// Assigns the pod `request` addresses (a `pods/NAME/binding` request) to the Binding's target.
    static func assign(_ binding: JSON, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        let name = try request.name()
        guard let node = binding[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw StatusError.invalid(kind: "Binding", group: "", name: name, causes: [
                .init(field: "target.name", type: "FieldValueRequired", message: "Required value"),
            ])
        }
        if let kind = binding[path: ["target", "kind"]]?.stringValue, !kind.isEmpty, kind != "Node" {
            throw StatusError.invalid(kind: "Binding", group: "", name: name, causes: [
                .init(field: "target.kind", type: "FieldValueNotSupported", message: "Unsupported value: \"\(kind)\": supported values: \"Node\""),
            ])
        }
        let current = try await engine.current(request, name: name)
        let pod = current.object
        func nonEmpty(_ field: String) -> String? { binding[path: ["metadata", field]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        try ResourceEngine.checkPreconditions(uid: nonEmpty("uid"), resourceVersion: nonEmpty("resourceVersion"), of: current, request, name: name)
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            throw StatusError.conflict(request.resource, name: name, why: "pod \(name) is being deleted, cannot be assigned to a host")
        }
        if let bound = pod[path: ["spec", "nodeName"]]?.stringValue, !bound.isEmpty {
            throw StatusError.conflict(request.resource, name: name, why: "pod \(name) is already assigned to node \"\(bound)\"")
        }
        var updated = pod
        updated[path: ["spec", "nodeName"]] = .string(node)
        if let annotations = binding[path: ["metadata", "annotations"]]?.objectValue, !annotations.isEmpty {
            var merged = pod[path: ["metadata", "annotations"]]?.objectValue ?? [:]
            for (key, value) in annotations { merged[key] = value }
            updated[path: ["metadata", "annotations"]] = .object(merged)
        }
        var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
        conditions.append(["type": "PodScheduled", "status": "True", "lastProbeTime": .null,
                           "lastTransitionTime": .string(ResourceEngine.now())])
        updated[path: ["status", "conditions"]] = .array(conditions)
        _ = try await engine.save(updated, over: current, request)
        return .json(.created, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201])
    }
}
