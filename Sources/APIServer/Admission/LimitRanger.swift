import Foundation

/// kube-apiserver's LimitRanger for new pods: the `Container` limits of the namespace's
/// LimitRanges give containers their missing requests (`defaultRequest`, else `default`, else
/// `max`) and limits (`default`, else `max`), recorded in the `kubernetes.io/limit-ranger`
/// annotation; then `min`, `max` and `maxLimitRequestRatio` are enforced per container and,
/// for `Pod` limits, over the pod's sum.
public struct LimitRanger: AdmissionPlugin {
    let store: any ObjectStore

    public init(store: any ObjectStore) {
        self.store = store
    }

    public func admit(_ pod: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.operation == .create, request.isCore("pods") else { return .none }
        var items: [JSON] = []
        try await store.forEach(prefix: RegistryKey.namespacePrefix(group: "", resource: "limitranges", namespace: request.namespace)) { entry in
            items += try entry.decoded()[path: ["spec", "limits"]]?.arrayValue ?? []
        }
        guard !items.isEmpty else { return .none }
        let containerItems = items.filter { ($0["type"]?.stringValue ?? "Container") == "Container" }
        var notes: [String] = []
        for field in ["initContainers", "containers"] {
            guard var containers = pod[path: ["spec", field]]?.arrayValue else { continue }
            for index in containers.indices {
                for item in containerItems { Self.applyDefaults(item, to: &containers[index], notes: &notes) }
            }
            pod[path: ["spec", field]] = .array(containers)
        }
        if !notes.isEmpty {
            pod[path: ["metadata", "annotations", "kubernetes.io/limit-ranger"]] = .string("LimitRanger plugin set: " + notes.joined(separator: "; "))
        }
        var violations: [String] = []
        for item in items {
            switch item["type"]?.stringValue ?? "Container" {
            case "Container":
                for field in ["initContainers", "containers"] {
                    for container in pod[path: ["spec", field]]?.arrayValue ?? [] {
                        violations += Self.violations(item, requests: Self.resources(container, "requests"),
                                                      limits: Self.resources(container, "limits"), scope: "Container")
                    }
                }
            case "Pod":
                var requests: [String: Quantity] = [:], limits: [String: Quantity] = [:]
                for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
                    requests.merge(Self.resources(container, "requests")) { $0 + $1 }
                    limits.merge(Self.resources(container, "limits")) { $0 + $1 }
                }
                violations += Self.violations(item, requests: requests, limits: limits, scope: "Pod")
            default: continue
            }
        }
        if !violations.isEmpty {
            throw StatusError(code: 403, reason: "Forbidden",
                              message: "pods \"\(request.name)\" is forbidden: [\(violations.joined(separator: ", "))]",
                              details: ["name": .string(request.name), "kind": "pods"])
        }
        return .none
    }

    static func resources(_ container: JSON, _ field: String) -> [String: Quantity] {
        (container[path: ["resources", field]]?.objectValue ?? [:]).compactMapValues { Quantity(json: $0) }
    }

    static func quantities(_ item: JSON, _ field: String) -> [String: JSON] {
        item[field]?.objectValue ?? [:]
    }

    /// Fills a container's missing requests and limits from one LimitRange item.
    static func applyDefaults(_ item: JSON, to container: inout JSON, notes: inout [String]) {
        let name = container["name"]?.stringValue ?? ""
        let defaultLimits = quantities(item, "default").merging(quantities(item, "max")) { given, _ in given }
        let defaultRequests = quantities(item, "defaultRequest").merging(defaultLimits) { given, _ in given }
        var setRequests: [String] = [], setLimits: [String] = []
        var limits = container[path: ["resources", "limits"]]?.objectValue ?? [:]
        for (resource, value) in defaultLimits.sorted(by: { $0.key < $1.key }) where limits[resource] == nil {
            limits[resource] = value
            setLimits.append(resource)
        }
        var requests = container[path: ["resources", "requests"]]?.objectValue ?? [:]
        for (resource, value) in defaultRequests.sorted(by: { $0.key < $1.key }) where requests[resource] == nil {
            // A container that sets only a limit requests that much.
            requests[resource] = (container[path: ["resources", "limits", resource]]) ?? value
            setRequests.append(resource)
        }
        if !limits.isEmpty { container[path: ["resources", "limits"]] = .object(limits) }
        if !requests.isEmpty { container[path: ["resources", "requests"]] = .object(requests) }
        if !setRequests.isEmpty { notes.append("\(setRequests.joined(separator: ", ")) request for container \(name)") }
        if !setLimits.isEmpty { notes.append("\(setLimits.joined(separator: ", ")) limit for container \(name)") }
    }

    /// What breaks one LimitRange item, in kube-apiserver's words.
    static func violations(_ item: JSON, requests: [String: Quantity], limits: [String: Quantity], scope: String) -> [String] {
        var found: [String] = []
        for (resource, text) in quantities(item, "min").sorted(by: { $0.key < $1.key }) {
            guard let minimum = Quantity(json: text) else { continue }
            if let request = requests[resource] {
                if request < minimum { found.append("minimum \(resource) usage per \(scope) is \(minimum), but request is \(request)") }
            } else {
                found.append("minimum \(resource) usage per \(scope) is \(minimum).  No request is specified")
            }
        }
        for (resource, text) in quantities(item, "max").sorted(by: { $0.key < $1.key }) {
            guard let maximum = Quantity(json: text) else { continue }
            // One finding per resource: no limit, else a limit above, else a request above.
            if let limit = limits[resource] {
                if maximum < limit {
                    found.append("maximum \(resource) usage per \(scope) is \(maximum), but limit is \(limit)")
                } else if let request = requests[resource], maximum < request {
                    found.append("maximum \(resource) usage per \(scope) is \(maximum), but request is \(request)")
                }
            } else {
                found.append("maximum \(resource) usage per \(scope) is \(maximum).  No limit is specified")
            }
        }
        for (resource, text) in quantities(item, "maxLimitRequestRatio").sorted(by: { $0.key < $1.key }) {
            guard let ratio = Quantity(json: text), let limit = limits[resource], let request = requests[resource], request.value > 0 else { continue }
            let actual = limit.value / request.value
            if actual > ratio.value {
                found.append("\(resource) max limit to request ratio per \(scope) is \(ratio), but provided ratio is \(Quantity(actual))")
            }
        }
        return found
    }
}
