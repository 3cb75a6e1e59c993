import Foundation

/// kube-apiserver's ResourceQuota admission: a new object's usage is added to every quota of
/// its namespace that limits it, refused when that would pass a hard limit, and the new usage
/// is written into the quota's `status.used` in the same transaction as the object, on the
/// condition that the quota has not changed since it was read — so concurrent creates can
/// never together pass the limit (the loser is admitted again against the new usage).
///
/// Which quotas a namespace has comes from the server's cache of them (a namespace without
/// quotas costs no read; a quota written a moment ago applies once the cache has it, as with
/// kube-apiserver's informer); each quota that applies is then read from the store, so the
/// charge is made against its current usage.
public struct ResourceQuotaAdmission: AdmissionPlugin {
    let store: any ObjectStore
    let quotas: WatchedObjects

    public init(store: any ObjectStore, quotas: WatchedObjects) {
        self.store = store
        self.quotas = quotas
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.operation == .create, request.subresource.isEmpty, request.resource.namespaced, !request.namespace.isEmpty else {
            return .none
        }
        let usage = QuotaUsage.of(group: request.resource.group, plural: request.resource.plural, object: object)
        guard !usage.isEmpty else { return .none }
        let prefix = RegistryKey.namespacePrefix(group: "", resource: "resourcequotas", namespace: request.namespace)
        var outcome = AdmissionOutcome()
        for key in quotas.keys(withPrefix: prefix) {
            guard let stored = try await store.get(key) else { continue }
            let quota = stored.object
            let scopes = QuotaScopes(quota: quota)
            guard scopes.selects(group: request.resource.group, plural: request.resource.plural, object: object) else { continue }
            let name = quota[path: ["metadata", "name"]]?.stringValue ?? ""
            let hard = (quota[path: ["spec", "hard"]]?.objectValue ?? [:]).compactMapValues { Quantity(json: $0) }
            let limited = hard.keys.filter { key in
                usage[key] != nil || (request.resource.group.isEmpty && request.resource.plural == "pods" && Self.isComputeKey(key))
            }.sorted()
            guard !limited.isEmpty else { continue }
            if request.resource.group.isEmpty && request.resource.plural == "pods" {
                let missing = limited.filter { Self.isComputeKey($0) && usage[$0] == nil }
                if !missing.isEmpty {
                    throw forbidden(request, "failed quota: \(name): must specify \(missing.joined(separator: ","))")
                }
            }
            var used = (quota[path: ["status", "used"]]?.objectValue ?? [:]).compactMapValues { Quantity(json: $0) }
            let unknown = limited.filter { used[$0] == nil }
            if !unknown.isEmpty {
                used.merge(try await QuotaUsage.measure(unknown, namespace: request.namespace, scopes: scopes, store: store)) { $1 }
            }
            var exceeded: [String] = []
            for key in limited {
                let after = (used[key] ?? .zero) + (usage[key] ?? .zero)
                if let limit = hard[key], limit < after { exceeded.append(key) }
            }
            if !exceeded.isEmpty {
                func list(_ values: [String: Quantity]) -> String {
                    exceeded.map { "\($0)=\(values[$0] ?? .zero)" }.joined(separator: ",")
                }
                throw forbidden(request, "exceeded quota: \(name), requested: \(list(usage)), used: \(list(used)), limited: \(list(hard))")
            }
            var charged = quota
            var newUsed = quota[path: ["status", "used"]]?.objectValue ?? [:]
            for key in limited { newUsed[key] = ((used[key] ?? .zero) + (usage[key] ?? .zero)).json }
            charged[path: ["status", "used"]] = .object(newUsed)
            charged[path: ["status", "hard"]] = quota[path: ["spec", "hard"]]
            outcome.writes.append(ConditionalWrite(key: key, object: charged, expectedRevision: stored.modRevision))
        }
        return outcome
    }

    static func isComputeKey(_ key: String) -> Bool {
        key.hasPrefix("requests.") && key != "requests.storage" || key.hasPrefix("limits.") || ["cpu", "memory", "ephemeral-storage"].contains(key)
    }

    private func forbidden(_ request: AdmissionRequest, _ why: String) -> StatusError {
        StatusError(code: 403, reason: "Forbidden", message: "\(request.resource.plural) \"\(request.name)\" is forbidden: \(why)",
                    details: ["name": .string(request.name), "kind": .string(request.resource.plural)])
    }
}
