extension ResourceEngine {
    /// POST: validates the object, sets the metadata the server owns (uid, creationTimestamp,
    /// generation, the generated name) and stores it; 409 AlreadyExists if the name is taken.
    func create(_ request: ResourceRequest) async throws -> HTTPResponse {
        let (body, duplicates) = try request.decodedBody()
        let (object, warnings) = try validateFields(body, duplicates: duplicates, request)
        return Self.withWarnings(try await insert(object, request, appliedBy: nil), warnings)
    }

    /// Stores a new object: the body of a create, or the result of a server-side apply to a
    /// missing object (`appliedBy` names the applying manager; its managedFields are set).
    func insert(_ body: JSON, _ request: ResourceRequest, appliedBy: String?) async throws -> HTTPResponse {
        let resource = request.resource
        var object = body
        try Self.checkTypeMeta(&object, resource)
        var meta = object["metadata"] ?? .emptyObject
        guard case .object = meta else { throw StatusError.badRequest("metadata must be an object") }

        if resource.namespaced {
            guard let namespace = request.info.namespace else {
                throw StatusError.badRequest("the namespace of the object must be given in the request path")
            }
            if let given = meta["namespace"]?.stringValue, !given.isEmpty, given != namespace {
                throw StatusError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            meta["namespace"] = .string(namespace)
        } else {
            meta["namespace"] = nil
        }
        var name = meta["name"]?.stringValue ?? ""
        let generatePrefix = name.isEmpty ? meta["generateName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } : nil
        if let generatePrefix {
            name = Self.generatedName(generatePrefix)
            meta["name"] = .string(name)
        }
        for key in ["resourceVersion", "uid", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"] { meta[key] = nil }
        meta["uid"] = .string(Self.newUID())
        meta["creationTimestamp"] = .string(Self.now())
        if resource.hasSpec { meta["generation"] = 1 } else { meta["generation"] = nil }
        object["metadata"] = meta
        request.strategy.prepareForCreate(&object)
        try Self.validateMetadata(object, request, nameRequired: true)
        try Self.validateObject(object, old: nil, request)
        if appliedBy == nil {
            ManagedFields.recordUpdate(old: nil, new: &object, manager: fieldManager(request), apiVersion: resource.groupVersion,
                                       subresource: "", schema: schema(of: resource))
        }

        var (admitted, outcome) = try await admit(object, request, name: name)
        if request.dryRun {
            if try await store.get(request.key(name)) != nil { throw StatusError.alreadyExists(resource, name: name) }
            return Self.named(outcome.applied(to: try await render(admitted, request, status: 201)), name)
        }
        // A generated name that is taken is generated again, a few times, as kube-apiserver
        // does; when an object admission charged (a quota) changed meanwhile, admission runs again.
        var renames = 0, contended = false
        for _ in 0..<64 {
            try await request.strategy.acquire(for: &admitted)
            let storedForm: JSON
            do {
                storedForm = try await storable(admitted, request)
            } catch {
                try await request.strategy.release(of: admitted)
                throw error
            }
            let created = try await store.create(request.key(name), storedForm, alongside: outcome.writes)
            if case .created(let stored) = created {
                // Once committed the answer needs no further call (a conversion webhook).
                return Self.named(outcome.applied(to: try await render(answered(admitted, stored: stored.object, request), request,
                                                                       status: 201)), name)
            }
            try await request.strategy.release(of: admitted)
            contended = false
            if case .conflict = created { contended = true }
            if case .exists = created {
                guard let generatePrefix, renames < 8 else { break }
                renames += 1
                name = Self.generatedName(generatePrefix)
                object[path: ["metadata", "name"]] = .string(name)
            }
            (admitted, outcome) = try await admit(object, request, name: name)
        }
        if contended {
            throw StatusError.conflict(resource, name: name, why: "the object's quota changed too often while it was being created; try again")
        }
        throw StatusError.alreadyExists(resource, name: name)
    }

    /// Runs the admission plugins over a new object.
    /// An object a mutating webhook changed is validated again, as kube-apiserver validates
    /// after mutating admission.
    private func admit(_ object: JSON, _ request: ResourceRequest, name: String) async throws -> (JSON, AdmissionOutcome) {
        var admitted = object
        let outcome = try await admission.admit(&admitted, AdmissionRequest(
            operation: .create, resource: request.resource, subresource: "", namespace: request.info.namespace ?? "", name: name,
            user: request.user, old: nil, dryRun: request.dryRun))
        if outcome.mutatedByWebhook {
            try Self.validateMetadata(admitted, request, nameRequired: true)
            try Self.validateObject(admitted, old: nil, request)
        }
        request.strategy.finishCreate(&admitted)
        return (admitted, outcome)
    }

    /// The resource's own validation (custom resource schemas, definitions); a 422 naming
    /// every problem.
    static func validateObject(_ object: JSON, old: JSON?, _ request: ResourceRequest) throws {
        let resource = request.resource
        let causes = request.strategy.validate(object, old: old)
        if !causes.isEmpty {
            throw StatusError.invalid(kind: resource.kind, group: resource.group,
                                      name: object[path: ["metadata", "name"]]?.stringValue ?? "", causes: causes)
        }
    }

    /// Fills in `kind` and `apiVersion`, refusing ones that do not match the resource.
    static func checkTypeMeta(_ object: inout JSON, _ resource: ResourceDescriptor) throws {
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != resource.kind {
            throw StatusError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(resource.kind))")
        }
        if let version = object["apiVersion"]?.stringValue, !version.isEmpty, version != resource.groupVersion {
            throw StatusError.badRequest("the API version in the data (\(version)) does not match the expected API version (\(resource.groupVersion))")
        }
        object["kind"] = .string(resource.kind)
        object["apiVersion"] = .string(resource.groupVersion)
    }

    /// Validates name, labels and annotations; a 422 `Status` naming each bad field.
    static func validateMetadata(_ object: JSON, _ request: ResourceRequest, nameRequired: Bool) throws {
        let resource = request.resource
        var causes: [StatusError.Cause] = []
        let meta = object["metadata"] ?? .emptyObject
        let name = meta["name"]?.stringValue ?? ""
        if name.isEmpty {
            causes.append(.init(field: "metadata.name", type: "FieldValueRequired", message: "Required value: name or generateName is required"))
        } else {
            for error in request.strategy.nameErrors(name) {
                causes.append(.init(field: "metadata.name", message: "Invalid value: \"\(name)\": \(error)"))
            }
        }
        for (field, kind) in [("labels", "label"), ("annotations", "annotation")] {
            guard let map = meta[field] else { continue }
            guard let members = map.objectValue else {
                causes.append(.init(field: "metadata.\(field)", type: "FieldValueTypeInvalid", message: "Invalid value: must be an object"))
                continue
            }
            var total = 0
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                for error in NameValidation.labelKeyErrors(key) {
                    causes.append(.init(field: "metadata.\(field)", message: "Invalid value: \"\(key)\": \(error)"))
                }
                guard let text = value.stringValue else {
                    causes.append(.init(field: "metadata.\(field).\(key)", type: "FieldValueTypeInvalid", message: "Invalid value: \(kind) values must be strings"))
                    continue
                }
                total += key.utf8.count + text.utf8.count
                if kind == "label" {
                    for error in NameValidation.labelValueErrors(text) {
                        causes.append(.init(field: "metadata.labels", message: "Invalid value: \"\(text)\": \(error)"))
                    }
                }
            }
            if kind == "annotation" && total > 256 * 1024 {
                causes.append(.init(field: "metadata.annotations", type: "FieldValueTooLong", message: "Too long: must have at most 262144 bytes"))
            }
        }
        if !causes.isEmpty {
            throw StatusError.invalid(kind: resource.kind, group: resource.group, name: name, causes: causes)
        }
    }

    /// `prefix` + 5 random characters from the alphabet Kubernetes uses (no vowels, no
    /// look-alike digits).
    static func generatedName(_ prefix: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let base = prefix.count > 58 ? String(prefix.prefix(58)) : prefix
        return base + String((0..<5).map { _ in alphabet.randomElement()! })
    }

    /// A create's answer, carrying the created object's name for its audit event.
    static func named(_ response: HTTPResponse, _ name: String) -> HTTPResponse {
        var response = response
        response.auditObjectName = name
        return response
    }
}
