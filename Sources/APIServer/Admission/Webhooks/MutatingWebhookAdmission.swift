/// MutatingAdmissionWebhook: calls each matching mutating webhook in turn and applies the
/// JSONPatch it answers to the object the next one sees. A webhook with `reinvocationPolicy:
/// IfNeeded` is called once more, after the others, when a webhook after it changed the
/// object. A denial or (under `failurePolicy: Fail`) a failed call refuses the request.
public struct MutatingWebhookAdmission: AdmissionPlugin {
    let dispatcher: WebhookDispatcher

    init(dispatcher: WebhookDispatcher) {
        self.dispatcher = dispatcher
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard !WebhookMatcher.exempt(request) else { return .none }
        let hooks = dispatcher.index.current.mutating
        guard !hooks.isEmpty else { return .none }
        var outcome = AdmissionOutcome()
        // Webhooks to call again if a later one changes the object, and those that will be.
        var reinvocable: Set<String> = [], reinvoke: Set<String> = []
        var scope = WebhookMatcher.Scope()
        for round in 0...1 {
            if round == 1 && reinvoke.isEmpty { break }
            // Which webhooks match is decided on the object as it stands at each call.
            for (position, hook) in hooks.enumerated() {
                if round == 1 && !reinvoke.contains(hook.id) { continue }
                guard let invocation = try await dispatcher.invocation(hook, request, object: object, &scope) else { continue }
                let changed = try await call(invocation, request, &object, round: round, index: position, &outcome)
                if changed {
                    outcome.mutatedByWebhook = true
                    if round == 0 {
                        reinvoke.formUnion(reinvocable)
                        reinvocable = []
                    }
                }
                if round == 0 && hook.reinvokedIfNeeded { reinvocable.insert(hook.id) }
            }
        }
        return outcome
    }

    public func admitDelete(_ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard !WebhookMatcher.exempt(request) else { return .none }
        let hooks = dispatcher.index.current.mutating
        guard !hooks.isEmpty else { return .none }
        var outcome = AdmissionOutcome()
        var none = JSON.null
        for (position, invocation) in try await dispatcher.invocations(hooks, request, object: nil) {
            if try await call(invocation, request, &none, round: 0, index: position, &outcome) {
                throw StatusError.internalError("admission webhook \"\(invocation.hook.name)\" attempted to modify the object, which is not supported for this operation")
            }
        }
        return outcome
    }

    /// Calls one webhook and applies its patch; whether the object changed.
    private func call(_ invocation: WebhookDispatcher.Invocation, _ request: AdmissionRequest, _ object: inout JSON,
                      round: Int, index: Int, _ outcome: inout AdmissionOutcome) async throws -> Bool {
        let hook = invocation.hook
        let suffix = "round_\(round)_index_\(index)"
        let present: JSON? = object == .null ? Optional<JSON>.none : .some(object)
        guard let response = try await dispatcher.call(invocation, .mutating, request, object: present,
                                                       failedOpenKey: "failed-open.mutation.webhook.admission.k8s.io/" + suffix,
                                                       &outcome) else { return false }
        guard response.allowed else { throw AdmissionReview.denial(hook.name, status: response.status) }
        var mutated = false
        if let patch = response.patch, patch != .array([]) {
            guard let seen = WebhookDispatcher.view(present, request, invocation.subject) else {
                throw StatusError.internalError("admission webhook \"\(hook.name)\" attempted to modify the object, which is not supported for this operation")
            }
            let patched: JSON
            do {
                patched = try JSONPatch.apply(patch, to: seen)
            } catch let error as StatusError {
                throw StatusError.internalError("admission webhook \"\(hook.name)\" sent a patch that does not apply: \(error.message)")
            }
            if patched != seen {
                object = Self.restored(patched, into: object, request)
                mutated = true
            }
        }
        let record: JSON = ["configuration": .string(hook.configuration), "webhook": .string(hook.name), "mutated": .bool(mutated)]
        outcome.auditAnnotations["mutation.webhook.admission.k8s.io/" + suffix] = record.text
        return mutated
    }

    /// The metadata a webhook may not change (the server owns it, and the object's key is
    /// already chosen from its name).
    static let ownedMetadata = ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                                "generation", "resourceVersion", "selfLink"]

    /// The request's object after a webhook patched its view of it: a Scale's replicas go
    /// back into the scaled object; otherwise the object keeps its own `apiVersion` and
    /// `kind` (the form it is stored in) and the metadata the server owns.
    static func restored(_ patched: JSON, into object: JSON, _ request: AdmissionRequest) -> JSON {
        if request.subresource == "scale" {
            var restored = object
            if let replicas = patched[path: ["spec", "replicas"]] {
                restored[path: ScaleSubresource.replicasPaths(request.resource).spec] = replicas
            }
            return restored
        }
        var restored = patched
        restored["apiVersion"] = object["apiVersion"]
        restored["kind"] = object["kind"]
        var metadata = restored["metadata"]?.objectValue ?? [:]
        for key in ownedMetadata { metadata[key] = object[path: ["metadata", key]] }
        restored["metadata"] = .object(metadata.filter { $0.value != .null })
        return restored
    }
}
