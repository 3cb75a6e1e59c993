/// Pods: a new pod is Pending, with the spec defaults every pod gets.
struct PodStrategy: ResourceStrategy {
    /// Reaches kubelets and pods (logs, exec, attach, port forwarding, proxy); nil where the
    /// server connects to none (in-process engine tests).
    var relay: BackendRelay? = nil

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        var causes = PodSpecValidation.causes(object["spec"], path: "spec") + PodEphemeralContainers.causes(object, old: old)
        if let old, let qos = old[path: ["status", "qosClass"]]?.stringValue, Self.resources(object) != Self.resources(old),
           PodQOS.of(object) != qos {
            causes.append(.init(field: "spec", type: "FieldValueInvalid",
                                message: "Invalid value: \"\(PodQOS.of(object))\": Pod QOS Class may not change as a result of resizing"))
        }
        return causes
    }

    /// The containers' resources, by container.
    private static func resources(_ pod: JSON) -> [JSON?] {
        ["initContainers", "containers"].flatMap { (pod[path: ["spec", $0]]?.arrayValue ?? []).map { $0["resources"] } }
    }


    /// `status` as for every kind; `ephemeralcontainers` takes the client's ephemeral
    /// containers (defaulted) and nothing else; `resize` takes the containers' resources and
    /// resize policies (by container name) and nothing else, in-place resize as 1.35 has it.
    func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        switch subresource {
        case "status":
            return statusUpdate(object, old: old)
        case "ephemeralcontainers":
            var updated = old
            let ephemeral = (object[path: ["spec", "ephemeralContainers"]]?.arrayValue ?? []).map(Self.defaultContainer)
            updated[path: ["spec", "ephemeralContainers"]] = ephemeral.isEmpty ? nil : .array(ephemeral)
            return updated
        case "resize":
            var updated = old
            for list in ["containers", "initContainers"] {
                guard let current = old[path: ["spec", list]]?.arrayValue else { continue }
                let asked = object[path: ["spec", list]]?.arrayValue ?? []
                updated[path: ["spec", list]] = .array(current.map { container in
                    guard let match = asked.first(where: { $0["name"] == container["name"] }) else { return container }
                    var resized = container
                    resized["resources"] = match["resources"] ?? .emptyObject
                    if let policy = match["resizePolicy"] { resized["resizePolicy"] = policy }
                    return resized
                })
            }
            return updated
        default:
            return nil
        }
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
        var spec = object["spec"] ?? .emptyObject
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
        if spec["securityContext"] == nil { spec["securityContext"] = .emptyObject }
        if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
        if spec["preemptionPolicy"] == nil { spec["preemptionPolicy"] = "PreemptLowerPriority" }
        if spec["priority"] == nil { spec["priority"] = 0 }
        if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = "default" }
        if spec["serviceAccount"] == nil { spec["serviceAccount"] = spec["serviceAccountName"] }
        spec["containers"] = .array((spec["containers"]?.arrayValue ?? []).map(Self.defaultContainer))
        if let initContainers = spec["initContainers"]?.arrayValue {
            spec["initContainers"] = .array(initContainers.map(Self.defaultContainer))
        }
        object["spec"] = spec
    }

    /// A pod's QoS class follows its containers' resources once admission has defaulted them.
    func finishCreate(_ object: inout JSON) {
        object[path: ["status", "qosClass"]] = .string(PodQOS.of(object))
    }

    static func defaultContainer(_ container: JSON) -> JSON {
        var c = container
        // A resource with a limit and no request requests its limit.
        if let limits = c[path: ["resources", "limits"]]?.objectValue, !limits.isEmpty {
            var requests = c[path: ["resources", "requests"]]?.objectValue ?? [:]
            for (resource, value) in limits where requests[resource] == nil { requests[resource] = value }
            c[path: ["resources", "requests"]] = .object(requests)
        }
        if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
        if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
        if c["imagePullPolicy"] == nil {
            let image = c["image"]?.stringValue ?? ""
            let tag = image.split(separator: "/").last.map { $0.contains(":") ? String($0.split(separator: ":").last ?? "") : "" } ?? ""
            c["imagePullPolicy"] = (tag.isEmpty || tag == "latest") && !image.contains("@") ? "Always" : "IfNotPresent"
        }
        if c["resources"] == nil { c["resources"] = .emptyObject }
        if let ports = c["ports"]?.arrayValue {
            c["ports"] = .array(ports.map { port in
                var p = port
                if p["protocol"] == nil { p["protocol"] = "TCP" }
                return p
            })
        }
        return c
    }

    /// The status is the server's, and the main resource does not change ephemeral
    /// containers (`pods/NAME/ephemeralcontainers` does).
    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        object[path: ["spec", "ephemeralContainers"]] = old[path: ["spec", "ephemeralContainers"]]
    }

    var selectableFields: [String] {
        ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
         "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName", "spec.host"]
    }

    func fieldValue(_ field: String, of object: JSON) -> String {
        switch field {
        case "spec.host": return FieldSelector.value(of: "spec.nodeName", in: object)
        case "spec.hostNetwork": return object[path: ["spec", "hostNetwork"]]?.boolValue == true ? "true" : "false"
        case "status.podIP":
            // The first of podIPs, as kube-apiserver's field set has it.
            return object[path: ["status", "podIPs"]]?.arrayValue?.first?["ip"]?.stringValue
                ?? FieldSelector.value(of: field, in: object)
        case "status.podIPs": return ""
        default: return FieldSelector.value(of: field, in: object)
        }
    }

    var returnsDeletedObject: Bool { true }

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        switch name {
        case "binding": PodBindingSubresource()
        case "eviction": PodEvictionSubresource()
        case "log": PodLogSubresource(relay: relay)
        case "exec": PodStreamSubresource(kind: .exec, relay: relay)
        case "attach": PodStreamSubresource(kind: .attach, relay: relay)
        case "portforward": PodStreamSubresource(kind: .portforward, relay: relay)
        case "proxy": ProxySubresource(target: .pod, relay: relay)
        default: nil
        }
    }

    var table: TablePrinter {
        TablePrinter(columns: [.name, Self.ready, Self.status, Self.restarts, .age,
                               .field("IP", ["status", "podIP"], priority: 1),
                               .field("Node", ["spec", "nodeName"], priority: 1),
                               .field("Nominated Node", ["status", "nominatedNodeName"], priority: 1),
                               TableColumn("Readiness Gates", priority: 1) { _ in "<none>" }])
    }

    static let ready = TableColumn("Ready") { object in
        let total = object[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
        let ready = (object[path: ["status", "containerStatuses"]]?.arrayValue ?? []).filter { $0["ready"]?.boolValue == true }.count
        return .string("\(ready)/\(total)")
    }
    static let status = TableColumn("Status") { object in
        if object[path: ["metadata", "deletionTimestamp"]] != nil { return "Terminating" }
        return .string(object[path: ["status", "reason"]]?.stringValue ?? object[path: ["status", "phase"]]?.stringValue ?? "Unknown")
    }
    static let restarts = TableColumn("Restarts", type: "integer") { object in
        .int((object[path: ["status", "containerStatuses"]]?.arrayValue ?? []).reduce(Int64(0)) { sum, status in
            let (total, overflow) = sum.addingReportingOverflow(status["restartCount"]?.intValue ?? 0)
            return overflow ? .max : total
        })
    }
}
