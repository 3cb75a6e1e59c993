/// kube-apiserver's NamespaceLifecycle plugin: an object is created only in a namespace that
/// exists (404 otherwise) and is not terminating (403).
struct NamespaceLifecycleAdmission: AdmissionPlugin {
    let store: any ObjectStore

    func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.operation == .create, request.resource.namespaced, request.subresource.isEmpty, !request.namespace.isEmpty else {
            return .none
        }
        let namespace = request.namespace
        let key = RegistryKey(group: "", resource: "namespaces", namespace: nil, name: namespace).path
        guard let stored = try await store.get(key) else {
            throw StatusError(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
                              details: ["name": .string(namespace), "kind": "namespaces"])
        }
        if stored.object[path: ["status", "phase"]]?.stringValue == "Terminating" {
            let plural = request.resource.plural
            throw StatusError(code: 403, reason: "Forbidden",
                              message: "\(plural) \"\(request.name)\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated",
                              details: ["name": .string(request.name), "kind": .string(plural),
                                        "causes": [["reason": "NamespaceTerminating", "field": "metadata.namespace",
                                                    "message": .string("namespace \(namespace) is being terminated")]]])
        }
        return .none
    }
}
