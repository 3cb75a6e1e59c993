/// Decides whether a webhook is called for a request, as kube-apiserver's ShouldCallHook
/// does: its rules (at the request's version, or with `matchPolicy: Equivalent` at another
/// served version of the same resource), its namespace and object selectors, then its CEL
/// `matchConditions`. Requests on admissionregistration's own objects call no webhook.
struct WebhookMatcher: Sendable {
    let store: any ObjectStore
    let catalog: ResourceCatalog

    /// What is looked up once per request, and only when a webhook needs it: the
    /// namespace's labels, and the other served versions of the resource.
    struct Scope {
        fileprivate var namespaceLabels: [String: String]?? = nil
        fileprivate var otherVersions: [ResourceDescriptor]? = nil
    }

    static func exempt(_ request: AdmissionRequest) -> Bool { request.resource.group == WebhookIndex.group }

    /// How the webhook sees the request, or nil when it is not called.
    func subject(for hook: AdmissionWebhook, _ request: AdmissionRequest, object: JSON?,
                 _ scope: inout Scope) async throws -> AdmissionReview.Subject? {
        var target = AdmissionRule.Target(request)
        let resource = request.resource
        var subject: AdmissionReview.Subject? = nil
        if hook.rules.contains(where: { $0.matches(target) }) {
            subject = .init(group: resource.group, version: resource.version, kind: AdmissionReview.kind(request), plural: resource.plural)
        } else if hook.matchesEquivalent, hook.rules.contains(where: { $0.matchesAnyVersion(target) }) {
            if scope.otherVersions == nil {
                scope.otherVersions = catalog.resources.filter {
                    $0.group == resource.group && $0.plural == resource.plural && $0.version != resource.version
                }
            }
            let others = scope.otherVersions ?? []
            search: for rule in hook.rules {
                for other in others {
                    target.version = other.version
                    if rule.matches(target) {
                        subject = .init(group: other.group, version: other.version,
                                        kind: request.subresource == "scale" ? "Scale" : other.kind, plural: other.plural)
                        break search
                    }
                }
            }
        }
        guard let subject else { return nil }
        if let selector = try hook.namespaceSelector?.get(),
           !request.namespace.isEmpty || (resource.group.isEmpty && resource.plural == "namespaces") {
            guard selector.matches(try await namespaceLabels(request, object: object, &scope)) else { return nil }
        }
        if let selector = try hook.objectSelector?.get() {
            func labels(_ object: JSON?) -> [String: String]? {
                guard let object, case .object = object else { return nil }
                return (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            }
            let new = labels(object).map(selector.matches) ?? false
            let old = labels(request.old).map(selector.matches) ?? false
            guard new || old else { return nil }
        }
        if !hook.matchConditions.isEmpty, try !conditionsHold(hook, request, object: object) { return nil }
        return subject
    }

    /// The labels the namespace selector is matched against: a namespace's own (the object
    /// written, when the request creates or updates one), or the request's namespace's.
    private func namespaceLabels(_ request: AdmissionRequest, object: JSON?, _ scope: inout Scope) async throws -> [String: String] {
        let resource = request.resource
        if resource.group.isEmpty, resource.plural == "namespaces", request.subresource.isEmpty, request.operation != .delete {
            return (object?[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        let name = request.namespace.isEmpty ? request.name : request.namespace
        func missing() -> StatusError {
            catalog.resource(group: "", version: "v1", plural: "namespaces").map { StatusError.notFound($0, name: name) }
                ?? StatusError.notFoundPath("/api/v1/namespaces/" + name)
        }
        if case .some(let known) = scope.namespaceLabels {
            guard let known else { throw missing() }
            return known
        }
        let found = try await store.get(RegistryKey(group: "", resource: "namespaces", namespace: nil, name: name).path)
        let labels = found.map { ($0.object[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue) }
        scope.namespaceLabels = .some(labels)
        guard let labels else { throw missing() }
        return labels
    }

    /// Whether every match condition holds. One that cannot be evaluated skips the webhook
    /// under `failurePolicy: Ignore` and refuses the request (403) under `Fail`.
    private func conditionsHold(_ hook: AdmissionWebhook, _ request: AdmissionRequest, object: JSON?) throws -> Bool {
        let variables: [String: CELValue] = [
            "object": object.map(CELValue.init) ?? .null, "oldObject": request.old.map(CELValue.init) ?? .null,
            "request": CELValue(ValidatingAdmissionPolicyAdmission.Context.requestValue(request)),
        ]
        for condition in hook.matchConditions {
            do {
                let result = try CELEvaluator(variables: variables).evaluate(try condition.expression.expression.get())
                guard case .bool(let holds) = result else {
                    throw CELError("expression did not evaluate to a bool but to \(result.typeName)")
                }
                if !holds { return false }
            } catch {
                if hook.failurePolicy == .ignore { return false }
                let resource = request.resource
                let qualified = resource.group.isEmpty ? resource.plural : resource.plural + "." + resource.group
                throw StatusError(code: 403, reason: "Forbidden",
                                  message: "\(qualified) \"\(request.name)\" is forbidden: failed to evaluate match condition '\(condition.name)' of webhook \"\(hook.name)\": \(error)",
                                  details: ["name": .string(request.name), "group": .string(resource.group), "kind": .string(resource.plural)])
            }
        }
        return true
    }
}
