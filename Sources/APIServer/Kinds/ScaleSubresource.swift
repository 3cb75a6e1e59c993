/// The `scale` subresource: an autoscaling/v1 Scale of the object's desired and observed
/// replicas (paths a custom resource's definition names), read, replaced and patched; a
/// write sets the desired replicas, checking the Scale's resourceVersion when given, and
/// goes through the engine's update pipeline (admission, managedFields, validation) as a
/// write to the `scale` subresource.
struct ScaleSubresource: SubresourceHandler {
    static let definition = "io.k8s.api.autoscaling.v1.Scale"

    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        let name = try request.name()
        switch request.info.verb {
        case .get:
            let current = try await engine.current(request, name: name)
            return .json(.ok, Self.scale(of: current.object, request.resource))
        case .update:
            let current = try await engine.current(request, name: name)
            return try await write(try request.bodyObject(), over: current, request, engine: engine)
        case .patch:
            let patch = try engine.patchDocument(request)
            guard patch.type != .apply else { throw StatusError.unsupportedMediaType(ResourceEngine.PatchType.apply.rawValue) }
            let schema = engine.schema(definition: Self.definition)
            // Without a resourceVersion in the patch, a write that loses a race is made again.
            for _ in 0..<8 {
                let current = try await engine.current(request, name: name)
                let scale = try ResourceEngine.applyPatch(patch.type, patch.body, to: Self.scale(of: current.object, request.resource),
                                                          schema: schema)
                do {
                    return try await write(scale, over: current, request, engine: engine)
                } catch let error as StatusError where error.reason == "Conflict" && !patch.pinsVersion {
                    continue
                }
            }
            throw StatusError.conflict(request.resource, name: name, why: "the object kept changing while the patch was applied; try again")
        default:
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// Stores the replicas of a Scale into the scaled object.
    func write(_ scale: JSON, over current: StoredObject, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
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
        let (saved, outcome) = try await engine.save(ResourceEngine.nextGeneration(object, old: current.object, request.resource),
                                                     over: current, request)
        return outcome.applied(to: .json(.ok, Self.scale(of: saved, request.resource)))
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
