extension ResourceEngine {
    /// GET of the scale subresource: an `autoscaling/v1` Scale of the object's replicas.
    func getScale(_ request: ResourceRequest) async throws -> HTTPResponse {
        let current = try await current(request, name: try request.name())
        return .json(.ok, Self.scale(of: current.object, request.resource))
    }

    /// PUT of the scale subresource: sets `spec.replicas`, checking the Scale's
    /// resourceVersion when given.
    func updateScale(_ request: ResourceRequest) async throws -> HTTPResponse {
        let current = try await current(request, name: try request.name())
        return try await writeScale(try request.bodyObject(), over: current, request)
    }

    /// Stores the replicas of a Scale object into the scaled object.
    func writeScale(_ scale: JSON, over current: StoredObject, _ request: ResourceRequest) async throws -> HTTPResponse {
        let name = try request.name()
        guard let replicas = scale[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
            throw StatusError.invalid(kind: "Scale", group: "autoscaling", name: name, causes: [
                .init(field: "spec.replicas", message: "Invalid value: must be greater than or equal to 0"),
            ])
        }
        if let rv = scale[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty, rv != String(current.modRevision) {
            throw StatusError.conflict(request.resource, name: name)
        }
        var object = current.object
        object[path: Self.replicasPaths(request.resource).spec] = .int(replicas)
        if object["spec"] != current.object["spec"] {
            object[path: ["metadata", "generation"]] = .int((current.object[path: ["metadata", "generation"]]?.intValue ?? 0) + 1)
        }
        if request.dryRun || object == current.object { return .json(.ok, Self.scale(of: object, request.resource)) }
        switch try await store.update(request.key(name), object, expectedRevision: current.modRevision) {
        case .written(let stored): return .json(.ok, Self.scale(of: stored.object, request.resource))
        case .conflict: throw StatusError.conflict(request.resource, name: name)
        case .missing: throw StatusError.notFound(request.resource, name: name)
        }
    }

    /// Where a resource keeps its desired and observed replicas (a custom resource's scale
    /// subresource names the paths).
    static func replicasPaths(_ resource: ResourceDescriptor) -> (spec: [String], status: [String]) {
        (resource.custom?.specReplicasPath ?? ["spec", "replicas"], resource.custom?.statusReplicasPath ?? ["status", "replicas"])
    }

    static func scale(of object: JSON, _ resource: ResourceDescriptor) -> JSON {
        let meta = object["metadata"] ?? .emptyObject
        var scaleMeta: JSON = .emptyObject
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { scaleMeta[key] = meta[key] }
        let paths = replicasPaths(resource)
        var status: JSON = ["replicas": .int(object[path: paths.status]?.intValue ?? 0)]
        if let custom = resource.custom {
            if let selector = custom.labelSelectorPath.flatMap({ object[path: $0]?.stringValue }) {
                status["selector"] = .string(selector)
            }
        } else if let selector = object[path: ["spec", "selector"]] {
            let parsed: LabelSelector?
            if selector["matchLabels"] != nil || selector["matchExpressions"] != nil {
                parsed = try? LabelSelector(object: selector)
            } else {
                parsed = try? LabelSelector(object: ["matchLabels": selector])
            }
            if let text = parsed?.text, !text.isEmpty { status["selector"] = .string(text) }
        }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scaleMeta,
                "spec": ["replicas": .int(object[path: paths.spec]?.intValue ?? 0)], "status": status]
    }
}
