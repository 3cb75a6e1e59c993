/// ResourceQuota scopes (`spec.scopes` and `spec.scopeSelector`): a scoped quota counts only
/// the pods its scopes select — Terminating (with `activeDeadlineSeconds`), NotTerminating,
/// BestEffort (no requests or limits), NotBestEffort, and PriorityClass (by
/// `priorityClassName`).
struct QuotaScopes {
    struct Requirement {
        var scope: String
        var op: String
        var values: [String]
    }

    let requirements: [Requirement]

    init(quota: JSON) {
        var requirements = (quota[path: ["spec", "scopes"]]?.arrayValue ?? []).compactMap(\.stringValue)
            .map { Requirement(scope: $0, op: "Exists", values: []) }
        for expression in quota[path: ["spec", "scopeSelector", "matchExpressions"]]?.arrayValue ?? [] {
            requirements.append(Requirement(scope: expression["scopeName"]?.stringValue ?? "", op: expression["operator"]?.stringValue ?? "",
                                            values: (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        self.requirements = requirements
    }

    /// Whether the quota counts this object.
    func selects(group: String, plural: String, object: JSON) -> Bool {
        guard !requirements.isEmpty else { return true }
        guard group.isEmpty, plural == "pods" else { return false }
        return requirements.allSatisfy { requirement in
            let holds: Bool
            switch requirement.scope {
            case "Terminating", "NotTerminating":
                let terminating = (object[path: ["spec", "activeDeadlineSeconds"]]?.intValue ?? -1) >= 0
                holds = requirement.scope == "Terminating" ? terminating : !terminating
            case "BestEffort", "NotBestEffort":
                let bestEffort = PodQOS.of(object) == "BestEffort"
                holds = requirement.scope == "BestEffort" ? bestEffort : !bestEffort
            case "PriorityClass":
                let name = object[path: ["spec", "priorityClassName"]]?.stringValue ?? ""
                switch requirement.op {
                case "In": return requirement.values.contains(name)
                case "NotIn": return !requirement.values.contains(name)
                case "Exists": return !name.isEmpty
                case "DoesNotExist": return name.isEmpty
                default: return false
                }
            default:
                return false
            }
            return requirement.op == "DoesNotExist" ? !holds : holds
        }
    }
}

/// A pod's quality-of-service class, as the kubelet and quota read it.
enum PodQOS {
    static func of(_ pod: JSON) -> String {
        let containers = ["initContainers", "containers"].flatMap { pod[path: ["spec", $0]]?.arrayValue ?? [] }
        var any = false, guaranteed = true
        for container in containers {
            let requests = LimitRanger.resources(container, "requests").filter { ["cpu", "memory"].contains($0.key) }
            let limits = LimitRanger.resources(container, "limits").filter { ["cpu", "memory"].contains($0.key) }
            if !requests.isEmpty || !limits.isEmpty { any = true }
            if limits.count < 2 { guaranteed = false }
            for (resource, request) in requests where limits[resource] != request { guaranteed = false }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
