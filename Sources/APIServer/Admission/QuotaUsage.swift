import Foundation

/// What objects count against ResourceQuota keys: `pods`, `services`, `configmaps`…
/// (object counts of core types), `count/<resource>[.<group>]` (any type), the compute
/// resources of pods (`requests.cpu`, `cpu`, `limits.memory`…), `requests.storage` of claims,
/// and `services.nodeports` / `services.loadbalancers`.
enum QuotaUsage {
    static let coreCounted: Set<String> = ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims",
                                           "replicationcontrollers", "resourcequotas"]

    /// The usage one object adds, for every key it counts under.
    static func of(group: String, plural: String, object: JSON) -> [String: Quantity] {
        var usage: [String: Quantity] = [:]
        usage["count/" + (group.isEmpty ? plural : plural + "." + group)] = Quantity(1)
        guard group.isEmpty else { return usage }
        switch plural {
        case "pods":
            let phase = object[path: ["status", "phase"]]?.stringValue
            if phase == "Succeeded" || phase == "Failed" { return [:] }
            usage["pods"] = Quantity(1)
            for (key, value) in podResources(object) { usage[key] = value }
        case "services":
            usage["services"] = Quantity(1)
            let type = object[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            if type == "NodePort" || type == "LoadBalancer" {
                usage["services.nodeports"] = Quantity(Decimal(object[path: ["spec", "ports"]]?.arrayValue?.count ?? 0))
            }
            if type == "LoadBalancer" { usage["services.loadbalancers"] = Quantity(1) }
        case "persistentvolumeclaims":
            usage["persistentvolumeclaims"] = Quantity(1)
            if let storage = Quantity(json: object[path: ["spec", "resources", "requests", "storage"]]) { usage["requests.storage"] = storage }
        default:
            if coreCounted.contains(plural) { usage[plural] = Quantity(1) }
        }
        return usage
    }

    /// A pod's requests and limits: the containers' sum, or the largest init container's when
    /// that is more (init containers run one at a time, before the others).
    static func podResources(_ pod: JSON) -> [String: Quantity] {
        var result: [String: Quantity] = [:]
        for field in ["requests", "limits"] {
            var sum: [String: Quantity] = [:]
            for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
                sum.merge(LimitRanger.resources(container, field)) { $0 + $1 }
            }
            for container in pod[path: ["spec", "initContainers"]]?.arrayValue ?? [] {
                for (resource, value) in LimitRanger.resources(container, field) where sum[resource].map({ $0 < value }) ?? true {
                    sum[resource] = value
                }
            }
            for (resource, value) in sum {
                result[field + "." + resource] = value
                if field == "requests", ["cpu", "memory", "ephemeral-storage"].contains(resource) { result[resource] = value }
            }
        }
        return result
    }

    /// The resource (group, plural) whose objects a quota key counts.
    static func counted(by key: String) -> (group: String, plural: String)? {
        if key.hasPrefix("count/") {
            let name = key.dropFirst("count/".count)
            guard let dot = name.firstIndex(of: ".") else { return ("", String(name)) }
            return (String(name[name.index(after: dot)...]), String(name[..<dot]))
        }
        if coreCounted.contains(key) { return ("", key) }
        if key == "requests.storage" { return ("", "persistentvolumeclaims") }
        if key.hasPrefix("services.") { return ("", "services") }
        if key.hasPrefix("requests.") || key.hasPrefix("limits.") || ["cpu", "memory", "ephemeral-storage"].contains(key) {
            return ("", "pods")
        }
        return nil
    }

    /// The namespace's current usage for `keys`, from the stored objects the quota's scopes select.
    static func measure(_ keys: [String], namespace: String, scopes: QuotaScopes, store: any ObjectStore) async throws -> [String: Quantity] {
        var used: [String: Quantity] = [:]
        var byResource: [String: (group: String, plural: String, keys: [String])] = [:]
        for key in keys {
            guard let (group, plural) = counted(by: key) else { continue }
            byResource[group + "/" + plural, default: (group, plural, [])].keys.append(key)
        }
        for (_, entry) in byResource {
            for key in entry.keys { used[key] = Quantity(0, binary: false) }
            try await store.forEach(prefix: RegistryKey.namespacePrefix(group: entry.group, resource: entry.plural, namespace: namespace)) { stored in
                let object = try stored.decoded()
                guard scopes.selects(group: entry.group, plural: entry.plural, object: object) else { return }
                let usage = of(group: entry.group, plural: entry.plural, object: object)
                for key in entry.keys { if let value = usage[key] { used[key] = used[key]! + value } }
            }
        }
        return used
    }
}
