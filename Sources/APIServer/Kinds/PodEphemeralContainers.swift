/// The rules of a pod's ephemeral containers (`kubectl debug`), as kube-apiserver validates
/// them: once added, one is never changed or removed; names are unique among all the pod's
/// containers; an ephemeral container has no ports, probes, lifecycle hooks or resources.
enum PodEphemeralContainers {
    static let forbiddenFields = ["ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources", "resizePolicy"]

    static func causes(_ pod: JSON, old: JSON?) -> [StatusError.Cause] {
        let spec = pod["spec"] ?? .emptyObject
        let ephemeral = spec["ephemeralContainers"]?.arrayValue ?? []
        var causes: [StatusError.Cause] = []
        var seen = Set((spec["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        seen.formUnion((spec["initContainers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        for (index, container) in ephemeral.enumerated() {
            let field = "spec.ephemeralContainers[\(index)]"
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(.init(field: field + ".name", type: "FieldValueRequired", message: "Required value"))
            } else if !seen.insert(name).inserted {
                causes.append(.init(field: field + ".name", type: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\""))
            }
            for forbidden in forbiddenFields {
                if let value = container[forbidden], value != .null, value != .emptyObject, value != .array([]) {
                    causes.append(.init(field: field + "." + forbidden, type: "FieldValueForbidden",
                                        message: "Forbidden: cannot be set for an Ephemeral Container"))
                }
            }
        }
        for previous in old?[path: ["spec", "ephemeralContainers"]]?.arrayValue ?? [] {
            let name = previous["name"]?.stringValue ?? ""
            guard let now = ephemeral.first(where: { $0["name"]?.stringValue == name }) else {
                causes.append(.init(field: "spec.ephemeralContainers", type: "FieldValueForbidden",
                                    message: "Forbidden: existing ephemeral containers \"\(name)\" may not be removed"))
                continue
            }
            if now != previous {
                causes.append(.init(field: "spec.ephemeralContainers", type: "FieldValueForbidden",
                                    message: "Forbidden: existing ephemeral containers \"\(name)\" may not be changed"))
            }
        }
        return causes
    }
}
