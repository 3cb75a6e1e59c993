extension ResourceEngine {
    /// PUT of an object or of its status subresource. The body's resourceVersion, when set,
    /// must be the stored one (409 Conflict otherwise); without one the update is unconditional
    /// (made again if another write comes between its read and its write).
    /// An update that changes nothing is not written and keeps the resourceVersion.
    func update(_ request: ResourceRequest) async throws -> HTTPResponse {
        let name = try request.name()
        let (body, duplicates) = try request.decodedBody()
        let resource = request.resource
        var (object, warnings) = try validateFields(body, duplicates: duplicates, request)
        try Self.checkTypeMeta(&object, resource)
        // The body names the object it replaces (kube-apiserver's checkName): a body without a
        // name ({}, nulls) would otherwise replace the object with nothing.
        let given = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if given != name {
            throw StatusError.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        if resource.namespaced, let given = object[path: ["metadata", "namespace"]]?.stringValue, !given.isEmpty,
           given != request.info.namespace {
            throw StatusError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let expected = try object[path: ["metadata", "resourceVersion"]]?.stringValue.flatMap {
            $0.isEmpty ? nil : try Self.resourceVersion($0)
        }
        // With a resourceVersion the update is conditional on it; without one, a write that
        // lost to another writer (a controller's status) is made again over what is there
        // now, as kube-apiserver's guaranteed update does.
        for _ in 0..<8 {
            let current = try await current(request, name: name)
            if let expected, expected != current.modRevision { throw StatusError.conflict(resource, name: name) }
            do {
                return Self.withWarnings(try await write(object, over: current, request), warnings)
            } catch let error as StatusError where error.reason == "Conflict" && expected == nil {
                continue
            }
        }
        throw StatusError.conflict(resource, name: name, why: "the object kept changing while it was updated; try again")
    }

    /// Stores `object` as the new state of `current` (what the client may not change taken
    /// from `current`), unless nothing changes; 409 if another write came first. Answers the
    /// object as stored.
    /// `served`: `current`'s object at the request's version, when the caller has it.
    func write(_ object: JSON, over current: StoredObject, _ request: ResourceRequest, applied: Bool = false,
               served known: JSON? = nil) async throws -> HTTPResponse {
        let old = try await served(current, request, known: known)
        let (saved, outcome) = try await save(try merged(object, over: old, request), over: current, request, applied: applied,
                                              served: old)
        return outcome.applied(to: try await render(saved, request))
    }

    /// The update pipeline under ``write(_:over:_:applied:)`` and a subresource handler's
    /// writes, for an object that already is the whole new state (merged, or built by the
    /// handler): admission, managedFields, validation, then the conditional write, or the
    /// removal of an object whose last finalizer went. Returns the object as it now is (as it
    /// would be, for a dry run) and what admission added to the answer.
    func save(_ new: JSON, over current: StoredObject, _ request: ResourceRequest,
              applied: Bool = false, served known: JSON? = nil) async throws -> (object: JSON, outcome: AdmissionOutcome) {
        let name = try request.name()
        var updated = new
        // Admission, managedFields and validation see the old object at the request's version.
        let old = try await served(current, request, known: known)
        let admitted = try await admission.admit(&updated, AdmissionRequest(
            operation: .update, resource: request.resource, subresource: request.info.subresource ?? "",
            namespace: request.info.namespace ?? "", name: name, user: request.user, old: old, dryRun: request.dryRun))
        // What a mutating webhook changed passes the update's restrictions again (the status of
        // a main-resource write and the rest of a status write come from the old object), as
        // kube-apiserver prepares an update after mutating admission.
        let subresource = request.info.subresource
        if admitted.mutatedByWebhook, subresource == nil || subresource == "status" {
            updated = try merged(updated, over: old, request)
        }
        if !applied {
            ManagedFields.recordUpdate(old: old, new: &updated, manager: fieldManager(request),
                                       apiVersion: request.resource.groupVersion, subresource: request.info.subresource ?? "",
                                       schema: schema(of: request.resource))
        }
        try Self.validateMetadata(updated, request, nameRequired: true)
        if updated[path: ["metadata", "deletionTimestamp"]] == nil || request.info.subresource == "status" {
            try Self.validateObject(updated, old: old, request)
        }
        if Self.sameContent(updated, old) { return (current.object, .none) }
        if current.object[path: ["metadata", "deletionTimestamp"]] != nil {
            // An object being deleted may lose finalizers but not gain them, and goes once the
            // last one is removed.
            let before = Set((current.object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue))
            let after = Set((updated[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue))
            if !after.isSubset(of: before) {
                throw StatusError.invalid(kind: request.resource.kind, group: request.resource.group, name: name, causes: [
                    .init(field: "metadata.finalizers", type: "FieldValueForbidden",
                          message: "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers \(after.subtracting(before).sorted())"),
                ])
            }
            // The kind may count more finalizers than the metadata's (a namespace's spec ones).
            if request.strategy.pendingFinalizers(of: updated).isEmpty {
                if request.dryRun { return (updated, .none) }
                switch try await store.delete(request.key(name), expectedRevision: current.modRevision) {
                case .written(let deleted):
                    try await request.strategy.release(of: current.object)
                    var final = updated
                    final[path: ["metadata", "resourceVersion"]] = deleted.object[path: ["metadata", "resourceVersion"]]
                    return (final, .none)
                case .conflict: throw StatusError.conflict(request.resource, name: name)
                case .missing: throw StatusError.notFound(request.resource, name: name)
                }
            }
        }
        if request.dryRun { return (updated, admitted) }
        switch try await store.update(request.key(name), try await storable(updated, request), expectedRevision: current.modRevision) {
        case .written(let stored): return (answered(updated, stored: stored.object, request), admitted)
        case .conflict: throw StatusError.conflict(request.resource, name: name)
        case .missing: throw StatusError.notFound(request.resource, name: name)
        }
    }

    /// The object to store for an update: what the client may change taken from `object`,
    /// the rest from `old`.
    func merged(_ object: JSON, over old: JSON, _ request: ResourceRequest) throws -> JSON {
        var new = object
        var meta = new["metadata"] ?? .emptyObject
        let oldMeta = old["metadata"] ?? .emptyObject
        for key in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                    "generation", "resourceVersion", "selfLink"] {
            meta[key] = oldMeta[key]
        }
        if meta["generateName"] == nil { meta["generateName"] = oldMeta["generateName"] }
        new["metadata"] = meta
        if let subresource = request.info.subresource {
            // A subresource changes what the resource's strategy lets it change.
            guard let updated = request.strategy.subresourceUpdate(subresource, new, old: old) else {
                throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            new = updated
        } else {
            // Defaults apply to every write, as Kubernetes defaults every decoded object; what
            // the server owns (status, and what the kind's strategy keeps) then comes back
            // from the stored object.
            var defaulted = new
            request.strategy.prepareForCreate(&defaulted)
            defaulted["metadata"] = meta
            defaulted["status"] = new["status"]
            new = defaulted
            request.strategy.prepareForUpdate(&new, old: old)
        }
        return Self.nextGeneration(new, old: old, request.resource)
    }

    /// `new` with the generation after `old`'s when its spec changed (for kinds with a spec).
    static func nextGeneration(_ new: JSON, old: JSON, _ resource: ResourceDescriptor) -> JSON {
        guard resource.hasSpec, new["spec"] != old["spec"] else { return new }
        var new = new
        new[path: ["metadata", "generation"]] = .int((old[path: ["metadata", "generation"]]?.intValue ?? 0) + 1)
        return new
    }

    /// Whether two objects are equal apart from their resourceVersion.
    static func sameContent(_ a: JSON, _ b: JSON) -> Bool {
        var a = a, b = b
        a[path: ["metadata", "resourceVersion"]] = nil
        b[path: ["metadata", "resourceVersion"]] = nil
        return a == b
    }
}
