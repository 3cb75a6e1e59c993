extension ResourceEngine {
    /// The patch formats PATCH accepts, by media type.
    enum PatchType: String {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        case strategic = "application/strategic-merge-patch+json"
        case apply = "application/apply-patch+yaml"
    }

    /// A patch as the request sends it: its format, its body (none for apply, whose body is
    /// read by ``apply(_:)``), the members given twice, and whether it pins the
    /// resourceVersion (then a lost race is a conflict instead of being tried again).
    struct PatchDocument {
        var type: PatchType
        var body: JSON
        var duplicates: [String]
        var pinsVersion: Bool
    }

    /// Reads the patch format from `Content-Type` (415 for others, and for strategic merge
    /// patches of custom resources, which have no patch strategies as on kube-apiserver) and
    /// parses the body.
    func patchDocument(_ request: ResourceRequest) throws -> PatchDocument {
        let mediaType = (request.http.headers.first(name: "content-type") ?? "").split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard let type = PatchType(rawValue: mediaType) else {
            throw StatusError(code: 415, reason: "UnsupportedMediaType",
                              message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
        }
        if type == .strategic && request.resource.custom != nil {
            throw StatusError(code: 415, reason: "UnsupportedMediaType",
                              message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
        }
        if type == .apply { return PatchDocument(type: type, body: .null, duplicates: [], pinsVersion: false) }
        let patch: JSON
        let duplicates: [String]
        do {
            (patch, duplicates) = try JSON.parseReportingDuplicates(request.http.body)
        } catch {
            throw StatusError.badRequest("the body of the patch is not valid JSON: \(error)")
        }
        let pinsVersion = type == .json
            ? (patch.arrayValue ?? []).contains { ($0["path"]?.stringValue ?? "") == "/metadata/resourceVersion" }
            : patch[path: ["metadata", "resourceVersion"]] != nil
        return PatchDocument(type: type, body: patch, duplicates: duplicates, pinsVersion: pinsVersion)
    }

    /// PATCH of an object or of its status subresource: the patch is applied to the
    /// stored object and the result written as an update. Without a resourceVersion in the
    /// patch, a write that loses a race is retried on the newer object, as kube-apiserver does.
    func patch(_ request: ResourceRequest) async throws -> HTTPResponse {
        let name = try request.name()
        let patch = try patchDocument(request)
        if patch.type == .apply { return try await apply(request) }
        let schema = schema(of: request.resource)
        for _ in 0..<8 {
            let current = try await current(request, name: name)
            do {
                // Patches apply to the object as this resource serves it (its version's form).
                let old = try await served(current.object, request)
                var served = old
                request.strategy.present(&served)
                let applied = try Self.applyPatch(patch.type, patch.body, to: served, schema: schema)
                guard case .object = applied else { throw StatusError.badRequest("the patched object is not a JSON object") }
                var (patched, warnings) = try validateFields(applied, duplicates: patch.duplicates, request)
                if let rv = patched[path: ["metadata", "resourceVersion"]]?.stringValue, rv != String(current.modRevision) {
                    throw StatusError.conflict(request.resource, name: name)
                }
                try Self.checkTypeMeta(&patched, request.resource)
                // A patch that takes the name away (`{"metadata":null}`, `$retainKeys`) makes no
                // object of this resource.
                let patchedName = patched[path: ["metadata", "name"]]?.stringValue ?? ""
                if patchedName != name {
                    throw StatusError.badRequest("the name of the object (\(patchedName)) does not match the name on the URL (\(name))")
                }
                if request.resource.namespaced, let namespace = patched[path: ["metadata", "namespace"]]?.stringValue,
                   !namespace.isEmpty, namespace != request.info.namespace {
                    throw StatusError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
                }
                return Self.withWarnings(try await write(patched, over: current, request, served: old), warnings)
            } catch let error as StatusError where error.reason == "Conflict" && !patch.pinsVersion {
                continue
            }
        }
        throw StatusError.conflict(request.resource, name: name, why: "the object kept changing while the patch was applied; try again")
    }

    /// Server-side apply (`application/apply-patch+yaml` with a JSON body): merges the
    /// manager's configuration into the object, creating it when missing; 409 with the
    /// conflicting managers and fields unless `force=true`.
    func apply(_ request: ResourceRequest) async throws -> HTTPResponse {
        let name = try request.name()
        guard let manager = request.parameter("fieldManager"), !manager.isEmpty else {
            throw StatusError.invalid(kind: "PatchOptions", group: "meta.k8s.io", name: "", causes: [
                .init(field: "fieldManager", type: "FieldValueRequired", message: "Required value: is required for apply patch"),
            ])
        }
        // Apply configurations are YAML; JSON (what kubectl sends) is read as JSON.
        let body: JSON
        var duplicates: [String] = []
        if request.http.body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
            do {
                (body, duplicates) = try JSON.parseReportingDuplicates(request.http.body)
            } catch {
                throw StatusError.badRequest("the apply configuration is not valid JSON: \(error)")
            }
        } else {
            body = try JSON.parseYAML(request.http.body)
        }
        guard case .object = body else { throw StatusError.badRequest("an apply configuration must be an object") }
        var (config, warnings) = try validateFields(body, duplicates: duplicates, request, apply: true)
        guard config["apiVersion"] != nil, config["kind"] != nil else {
            throw StatusError.badRequest("an apply configuration must set apiVersion and kind")
        }
        try Self.checkTypeMeta(&config, request.resource)
        if let given = config[path: ["metadata", "name"]]?.stringValue, given != name {
            throw StatusError.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        config[path: ["metadata", "name"]] = .string(name)
        let force = request.parameter("force") == "true"
        let schema = schema(of: request.resource)
        for _ in 0..<8 {
            guard let current = try await store.get(request.key(name)) else {
                let created = try ManagedFields.apply(config, to: nil, manager: manager, apiVersion: request.resource.groupVersion,
                                                      force: force, schema: schema)
                do {
                    return Self.withWarnings(try await insert(created, request, appliedBy: manager), warnings)
                } catch let error as StatusError where error.reason == "AlreadyExists" {
                    continue
                }
            }
            // A resourceVersion in the configuration is a precondition, as for any write.
            if let rv = config[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty, rv != String(current.modRevision) {
                throw StatusError.conflict(request.resource, name: name)
            }
            let old = try await served(current.object, request)
            var served = old
            request.strategy.present(&served)
            let result = try ManagedFields.apply(config, to: served, manager: manager, apiVersion: request.resource.groupVersion,
                                                 force: force, schema: schema)
            do {
                return Self.withWarnings(try await write(result, over: current, request, applied: true, served: old), warnings)
            } catch let error as StatusError where error.reason == "Conflict" && error.details?["causes"] == nil {
                continue
            }
        }
        throw StatusError.conflict(request.resource, name: name, why: "the object kept changing while the configuration was applied; try again")
    }

    static func applyPatch(_ type: PatchType, _ patch: JSON, to object: JSON, schema: SchemaNode?) throws -> JSON {
        switch type {
        case .json: return try JSONPatch.apply(patch, to: object)
        case .merge:
            guard case .object = patch else { throw StatusError.badRequest("a merge patch must be a JSON object") }
            return MergePatch.apply(patch, to: object)
        case .strategic: return try StrategicMergePatch.apply(patch, to: object, schema: schema)
        case .apply: throw StatusError(code: 415, reason: "UnsupportedMediaType", message: "apply is not a patch format")
        }
    }
}
