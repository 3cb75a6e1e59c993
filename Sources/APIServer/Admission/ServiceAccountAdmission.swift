/// kube-apiserver's ServiceAccount admission for new pods: the pod runs as `default` unless
/// it names an account, the account must exist, and unless automounting is turned off (on the
/// pod, or else on the account) the pod gets the projected `kube-api-access-*` volume (a
/// bound token, the cluster CA and the namespace) mounted into every container.
public struct ServiceAccountAdmission: AdmissionPlugin {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    let store: any ObjectStore

    public init(store: any ObjectStore) {
        self.store = store
    }

    public func admit(_ pod: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.operation == .create, request.isCore("pods") else { return .none }
        // Mirror pods (made by kubelets from files) have no service account.
        if pod[path: ["metadata", "annotations", "kubernetes.io/config.mirror"]] != nil { return .none }
        var spec = pod["spec"] ?? .emptyObject
        let name = spec["serviceAccountName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? spec["serviceAccount"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        spec["serviceAccountName"] = .string(name)
        spec["serviceAccount"] = .string(name)
        let key = RegistryKey(group: "", resource: "serviceaccounts", namespace: request.namespace, name: name).path
        var account = try await store.get(key)
        // A namespace's `default` account comes from a control loop a moment after the
        // namespace: a pod created in between waits for it briefly.
        for _ in 0..<40 where account == nil && name == "default" {
            try await Task.sleep(for: .milliseconds(50))
            account = try await store.get(key)
        }
        guard let account else {
            throw StatusError(code: 403, reason: "Forbidden",
                              message: "pods \"\(request.name)\" is forbidden: error looking up service account \(request.namespace)/\(name): serviceaccount \"\(name)\" not found",
                              details: ["name": .string(request.name), "kind": "pods"])
        }
        let automount = spec["automountServiceAccountToken"]?.boolValue
            ?? account.object["automountServiceAccountToken"]?.boolValue ?? true
        if automount { Self.mountToken(&spec) }
        pod["spec"] = spec
        return .none
    }

    /// Adds the projected token volume and mounts it where no container mounts something already.
    static func mountToken(_ spec: inout JSON) {
        var volumes = spec["volumes"]?.arrayValue ?? []
        let volumeName = volumes.compactMap { $0["name"]?.stringValue }.first { $0.hasPrefix("kube-api-access-") }
            ?? ResourceEngine.generatedName("kube-api-access-")
        if !volumes.contains(where: { $0["name"]?.stringValue == volumeName }) {
            volumes.append([
                "name": .string(volumeName),
                "projected": [
                    "defaultMode": 420,
                    "sources": [
                        ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                        ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                        ["downwardAPI": ["items": [["path": "namespace",
                                                    "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
                    ],
                ],
            ])
        }
        spec["volumes"] = .array(volumes)
        for field in ["initContainers", "containers"] {
            guard let containers = spec[field]?.arrayValue else { continue }
            spec[field] = .array(containers.map { container in
                var container = container
                var mounts = container["volumeMounts"]?.arrayValue ?? []
                if !mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) {
                    mounts.append(["name": .string(volumeName), "readOnly": true, "mountPath": .string(mountPath)])
                }
                container["volumeMounts"] = .array(mounts)
                return container
            })
        }
    }
}
