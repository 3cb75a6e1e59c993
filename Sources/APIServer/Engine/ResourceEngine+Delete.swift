extension ResourceEngine {
    /// DELETE of one object, honouring `preconditions` (uid, resourceVersion) of the
    /// DeleteOptions body and its propagation policy. An object without finalizers is
    /// removed at once (Background: the garbage collector then removes its dependents);
    /// Foreground and Orphan deletion hold it with a finalizer the collector releases.
    /// Answers a success `Status` with the object's details (or the object, where
    /// kube-apiserver does).
    func delete(_ request: ResourceRequest) async throws -> HTTPResponse {
        try await delete(try request.name(), options: try deleteOptions(request), request)
    }

    /// DELETE of the named object with these DeleteOptions (those of a DELETE's body, or of
    /// an eviction).
    func delete(_ name: String, options: JSON, _ request: ResourceRequest) async throws -> HTTPResponse {
        // A controller may write the object between the read and the delete (a CRD's status,
        // a quota's usage): the delete is then made again on what is there now, as
        // kube-apiserver's guaranteed update does, unless the client set preconditions.
        for _ in 0..<8 {
            do {
                return try await deleteOnce(name, options: options, request)
            } catch is DeleteRaced {
                continue
            }
        }
        throw StatusError.conflict(request.resource, name: name, why: "the object kept changing while it was deleted; try again")
    }

    /// A delete's conditional write lost to another writer.
    struct DeleteRaced: Error {}

    private func deleteOnce(_ name: String, options: JSON, _ request: ResourceRequest) async throws -> HTTPResponse {
        let current = try await current(request, name: name)
        try Self.checkPreconditions(uid: options[path: ["preconditions", "uid"]]?.stringValue,
                                    resourceVersion: options[path: ["preconditions", "resourceVersion"]]?.stringValue,
                                    of: current, request, name: name)
        try request.strategy.checkDelete(current.object)
        // Converted once (a conversion webhook), before anything is written: the answer of a
        // committed delete needs no call that could fail.
        let old = try await served(current.object, request)
        let admitted = try await admitDelete(old, name: name, options: options, request)
        if let response = try await deleteGracefully(current, served: old, options: options, request) { return admitted.applied(to: response) }
        var deletedObject = current.object
        if !request.dryRun {
            switch try await store.delete(request.key(name), expectedRevision: current.modRevision) {
            case .written(let deleted):
                deletedObject = deleted.object
                try await request.strategy.release(of: current.object)
            case .conflict: throw DeleteRaced()
            case .missing: throw StatusError.notFound(request.resource, name: name)
            }
        }
        if request.strategy.returnsDeletedObject {
            return admitted.applied(to: try await render(answered(old, stored: deletedObject, request), request))
        }
        var details = StatusError.objectDetails(request.resource, name: name)
        details["uid"] = current.object[path: ["metadata", "uid"]]
        return admitted.applied(to: .json(.ok, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success",
                                                "details": details]))
    }

    /// Runs the admission chain's delete checks (webhooks, policies) over the object a
    /// delete removes or marks (`served`: at the request's version).
    func admitDelete(_ served: JSON, name: String, options: JSON, _ request: ResourceRequest) async throws -> AdmissionOutcome {
        var given = options
        given["apiVersion"] = "meta.k8s.io/v1"
        given["kind"] = "DeleteOptions"
        if request.dryRun { given["dryRun"] = ["All"] }
        var old = served
        request.strategy.present(&old)
        return try await admission.admitDelete(AdmissionRequest(
            operation: .delete, resource: request.resource, subresource: "", namespace: request.info.namespace ?? "", name: name,
            user: request.user, old: old, dryRun: request.dryRun, options: given))
    }

    /// An object with finalizers (or of a kind that always keeps its objects until they are
    /// released, as namespaces) is not removed: it gets `deletionTimestamp` and
    /// `deletionGracePeriodSeconds` and stays until the last finalizer is removed. Answers the
    /// marked object; `nil` when it can go at once (nothing holds it, or it was marked before
    /// and has been released since).
    func deleteGracefully(_ current: StoredObject, served: JSON, options: JSON, _ request: ResourceRequest) async throws -> HTTPResponse? {
        let strategy = request.strategy
        let pending = strategy.pendingFinalizers(of: current.object)
        if current.object[path: ["metadata", "deletionTimestamp"]] != nil {
            return pending.isEmpty ? nil : try await render(served, request)
        }
        guard let object = Self.held(current.object, finalizer: Self.propagationFinalizer(options, request), strategy,
                                     gracePeriod: options["gracePeriodSeconds"]?.intValue ?? 0,
                                     bumpsGeneration: request.resource.hasSpec) else { return nil }
        // The marked object at the request's version, made before the write (the mark is
        // metadata: the served form takes it as it is).
        var shown = served
        shown["metadata"] = object["metadata"]
        if request.dryRun { return try await render(answered(shown, stored: object, request), request) }
        switch try await store.update(request.key(try request.name()), object, expectedRevision: current.modRevision) {
        case .written(let stored): return try await render(answered(shown, stored: stored.object, request), request)
        case .conflict: throw DeleteRaced()
        case .missing: throw StatusError.notFound(request.resource, name: try request.name())
        }
    }

    /// `object` marked for a delete that must wait, or nil when it can go at once. It waits
    /// for `finalizer` (Foreground and Orphan propagation hand it to the garbage collector,
    /// which deletes or orphans its dependents and then drops the finalizer), for finalizers
    /// it already has, or because its kind keeps every object until released (namespaces).
    static func held(_ object: JSON, finalizer: String?, _ strategy: any ResourceStrategy, gracePeriod: Int64 = 0,
                     bumpsGeneration: Bool = false) -> JSON? {
        guard finalizer != nil || strategy.keepsUntilFinalized || !strategy.pendingFinalizers(of: object).isEmpty else { return nil }
        var marked = ObjectDeleter.marked(object, adding: finalizer, gracePeriod: gracePeriod, bumpsGeneration: bumpsGeneration)
        strategy.prepareForDeletion(&marked)
        return marked
    }

    /// The finalizer a delete's propagation policy asks for: `foregroundDeletion` for
    /// Foreground, `orphan` for Orphan (or the older `orphanDependents: true`), none for
    /// Background. The policy comes from the DeleteOptions body or the query.
    static func propagationFinalizer(_ options: JSON, _ request: ResourceRequest) -> String? {
        let policy = options["propagationPolicy"]?.stringValue ?? request.parameter("propagationPolicy")
        switch policy {
        case "Foreground": return GarbageCollector.foregroundFinalizer
        case "Orphan": return GarbageCollector.orphanFinalizer
        case "Background": return nil
        default:
            let orphan = options["orphanDependents"]?.boolValue ?? (request.parameter("orphanDependents") == "true")
            return orphan ? GarbageCollector.orphanFinalizer : nil
        }
    }

    /// DELETE of a collection: every object the selectors match, answered with their list.
    func deleteCollection(_ request: ResourceRequest) async throws -> HTTPResponse {
        let options = try deleteOptions(request)
        let finalizer = Self.propagationFinalizer(options, request)
        let page = try await readList(request)
        let strategy = request.strategy
        var deleted: [JSON] = []
        for entry in page.entries {
            var current = StoredObject(object: try entry.decoded(), modRevision: entry.modRevision, key: entry.key)
            // An object changed since the list (a controller wrote its status) is deleted as it
            // is now: the collection's delete is not conditional on the listed version.
            var removed: JSON? = nil
            // Each object's delete is admitted on its own, as kube-apiserver's collection delete does.
            if current.object[path: ["metadata", "deletionTimestamp"]] == nil {
                _ = try await admitDelete(try await served(current.object, request),
                                          name: current.object[path: ["metadata", "name"]]?.stringValue ?? "", options: options, request)
            }
            for _ in 0..<8 {
                let object = current.object
                if request.dryRun || object[path: ["metadata", "deletionTimestamp"]] != nil { removed = object; break }
                if let marked = Self.held(object, finalizer: finalizer, strategy) {
                    if case .written(let stored) = try await store.update(current.key, marked, expectedRevision: current.modRevision) {
                        removed = stored.object
                        break
                    }
                } else if case .written(let stored) = try await store.delete(current.key, expectedRevision: current.modRevision) {
                    try await strategy.release(of: object)
                    removed = stored.object
                    break
                }
                guard let fresh = try await store.get(current.key) else { break }
                current = fresh
            }
            if var removed {
                strategy.present(&removed)
                deleted.append(removed)
            }
        }
        return .json(.ok, ["kind": .string(request.resource.listKind), "apiVersion": .string(request.resource.groupVersion),
                           "metadata": ["resourceVersion": .string(String(page.revision))], "items": .array(deleted)])
    }

    /// A conflict unless `current` has the uid and resourceVersion a write's preconditions name
    /// (`nil`: no condition), in kube-apiserver's words.
    static func checkPreconditions(uid: String?, resourceVersion: String?, of current: StoredObject, _ request: ResourceRequest,
                                   name: String) throws {
        let held = current.object[path: ["metadata", "uid"]]?.stringValue ?? ""
        if let uid, uid != held {
            throw StatusError.conflict(request.resource, name: name,
                                       why: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(held)")
        }
        if let resourceVersion, resourceVersion != String(current.modRevision) {
            throw StatusError.conflict(request.resource, name: name,
                                       why: "Precondition failed: ResourceVersion in precondition: \(resourceVersion), ResourceVersion in object meta: \(current.modRevision)")
        }
    }

    /// The DeleteOptions body (may be empty).
    func deleteOptions(_ request: ResourceRequest) throws -> JSON {
        if request.http.body.isEmpty { return .emptyObject }
        return try Self.checkedDeleteOptions(try request.bodyObject())
    }

    /// DeleteOptions (of a DELETE or of an eviction) with a propagation policy Kubernetes knows.
    static func checkedDeleteOptions(_ options: JSON) throws -> JSON {
        if let policy = options["propagationPolicy"]?.stringValue, !["Background", "Foreground", "Orphan"].contains(policy) {
            throw StatusError.invalid(kind: "DeleteOptions", group: "", name: "", causes: [
                .init(field: "propagationPolicy", type: "FieldValueNotSupported",
                      message: "Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\""),
            ])
        }
        return options
    }
}
