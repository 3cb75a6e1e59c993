/// kube-apiserver's RuntimeClass admission for new pods: a pod that names a RuntimeClass gets
/// that class's pod overhead and its scheduling constraints (node selector, tolerations);
/// a class that does not exist, an overhead the pod sets differently, or a node selector
/// that contradicts the class's refuses the pod (403).
public struct RuntimeClassAdmission: AdmissionPlugin {
    let store: any ObjectStore

    public init(store: any ObjectStore) { self.store = store }

    public func admit(_ pod: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.operation == .create, request.isCore("pods"),
              let className = pod[path: ["spec", "runtimeClassName"]]?.stringValue, !className.isEmpty else { return .none }
        func forbidden(_ why: String) -> StatusError {
            StatusError(code: 403, reason: "Forbidden", message: "pods \"\(request.name)\" is forbidden: \(why)",
                        details: ["name": .string(request.name), "kind": "pods"])
        }
        let key = RegistryKey(group: "node.k8s.io", resource: "runtimeclasses", namespace: nil, name: className).path
        guard let runtimeClass = try await store.get(key)?.object else {
            throw forbidden("pod rejected: RuntimeClass \"\(className)\" not found")
        }
        var spec = pod["spec"] ?? .emptyObject
        if let overhead = runtimeClass[path: ["overhead", "podFixed"]], overhead != .null {
            if let existing = spec["overhead"], existing != .null, existing != overhead {
                throw forbidden("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
            }
            spec["overhead"] = overhead
        } else if let existing = spec["overhead"], existing != .null, existing != .emptyObject {
            throw forbidden("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead")
        }
        if let selector = runtimeClass[path: ["scheduling", "nodeSelector"]]?.objectValue {
            var merged = spec["nodeSelector"]?.objectValue ?? [:]
            for (label, value) in selector {
                if let current = merged[label], current != value {
                    throw forbidden("pod rejected: conflict: runtimeClass.scheduling.nodeSelector[\(label)] = \(value.stringValue ?? ""); pod.spec.nodeSelector[\(label)] = \(current.stringValue ?? "")")
                }
                merged[label] = value
            }
            spec["nodeSelector"] = .object(merged)
        }
        if let tolerations = runtimeClass[path: ["scheduling", "tolerations"]]?.arrayValue, !tolerations.isEmpty {
            var podTolerations = spec["tolerations"]?.arrayValue ?? []
            for toleration in tolerations where !podTolerations.contains(toleration) { podTolerations.append(toleration) }
            spec["tolerations"] = .array(podTolerations)
        }
        pod["spec"] = spec
        return .none
    }
}
