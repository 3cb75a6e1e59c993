/// Makes the bootstrap roles and bindings present at start without undoing what users
/// changed: missing objects are created; existing ones (unless annotated
/// `rbac.authorization.kubernetes.io/autoupdate: "false"`) get back missing rules, labels,
/// annotations, aggregation selectors and subjects, and keep whatever was added to them.
struct PolicyReconciler {
    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:policy-reconciler`.
    let client: LoopbackClient

    func reconcile() async throws {
        for role in BootstrapPolicy.clusterRoles {
            try await ensure(key: RegistryKey(group: "rbac.authorization.k8s.io", resource: "clusterroles", namespace: nil, name: role.name).path,
                             wanted: BootstrapPolicy.object(role), merge: Self.mergeRole)
        }
        for binding in BootstrapPolicy.bindings {
            try await ensure(key: RegistryKey(group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", namespace: nil,
                                              name: binding.name).path,
                             wanted: BootstrapPolicy.object(binding), merge: Self.mergeBinding)
        }
    }

    private func ensure(key: String, wanted: JSON, merge: (JSON, JSON) -> JSON) async throws {
        for _ in 0..<5 {
            guard let current = try await store.get(key) else {
                if try await client.create(key, wanted) != nil { return }
                continue
            }
            if current.object[path: ["metadata", "annotations", BootstrapPolicy.autoupdate]]?.stringValue == "false" { return }
            let merged = merge(current.object, wanted)
            if ResourceEngine.sameContent(merged, current.object) { return }
            if case .written = try await client.update(key, merged, expectedRevision: current.modRevision) { return }
        }
    }

    /// Labels and annotations missing from `current` are added (existing values kept).
    static func mergeMetadata(_ current: JSON, _ wanted: JSON) -> JSON {
        var merged = current
        for field in ["labels", "annotations"] {
            var map = merged[path: ["metadata", field]]?.objectValue ?? [:]
            for (key, value) in wanted[path: ["metadata", field]]?.objectValue ?? [:] where map[key] == nil { map[key] = value }
            merged[path: ["metadata", field]] = .object(map)
        }
        return merged
    }

    static func mergeRole(_ current: JSON, _ wanted: JSON) -> JSON {
        var merged = mergeMetadata(current, wanted)
        if let wantedAggregation = wanted[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue {
            var selectors = merged[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue ?? []
            for selector in wantedAggregation where !selectors.contains(selector) { selectors.append(selector) }
            merged[path: ["aggregationRule", "clusterRoleSelectors"]] = .array(selectors)
            return merged
        }
        let held = RBACPolicy.rules(merged)
        var rules = merged["rules"]?.arrayValue ?? []
        for rule in RBACPolicy.rules(wanted) where !held.contains(where: { $0.covers(rule) }) { rules.append(rule.json) }
        merged["rules"] = .array(rules)
        return merged
    }

    static func mergeBinding(_ current: JSON, _ wanted: JSON) -> JSON {
        var merged = mergeMetadata(current, wanted)
        guard merged["roleRef"] == wanted["roleRef"] else { return merged }
        var subjects = merged["subjects"]?.arrayValue ?? []
        for subject in wanted["subjects"]?.arrayValue ?? [] where !subjects.contains(subject) { subjects.append(subject) }
        merged["subjects"] = .array(subjects)
        return merged
    }
}
