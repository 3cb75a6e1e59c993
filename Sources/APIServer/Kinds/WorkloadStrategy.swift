/// Workloads with a pod template and replicas (Deployment, ReplicaSet, StatefulSet,
/// ReplicationController, DaemonSet): common spec defaults.
struct WorkloadStrategy: ResourceStrategy {
    let resource: ResourceDescriptor

    func prepareForCreate(_ object: inout JSON) {
        // The status a new workload has: its required counters at zero (clients such as
        // Python's `kubernetes` refuse a ReplicaSet status without `replicas`).
        switch resource.kind {
        case "ReplicaSet", "ReplicationController": object["status"] = ["replicas": 0]
        case "StatefulSet": object["status"] = ["replicas": 0, "availableReplicas": 0]
        case "DaemonSet":
            object["status"] = ["currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0]
        default: object["status"] = .emptyObject
        }
        var spec = object["spec"] ?? .emptyObject
        if resource.kind != "DaemonSet", spec["replicas"] == nil { spec["replicas"] = 1 }
        // A ReplicationController without a selector selects its template's labels, and
        // without labels of its own wears them (kube-apiserver's core/v1 defaulting).
        if resource.kind == "ReplicationController", let labels = spec[path: ["template", "metadata", "labels"]]?.objectValue {
            if (spec["selector"]?.objectValue ?? [:]).isEmpty { spec["selector"] = .object(labels) }
            if (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).isEmpty { object[path: ["metadata", "labels"]] = .object(labels) }
        }
        if ["Deployment", "StatefulSet", "DaemonSet"].contains(resource.kind), spec["revisionHistoryLimit"] == nil {
            spec["revisionHistoryLimit"] = 10
        }
        // A protobuf client sends an unset strategy as an empty message, its type as "": both
        // are defaulted as absent, as kube-apiserver's defaulting (on Go's zero values) does.
        func unset(_ value: JSON?) -> Bool { value == nil || value == .null || value == .string("") }
        if resource.kind == "StatefulSet" {
            if unset(spec["podManagementPolicy"]) { spec["podManagementPolicy"] = "OrderedReady" }
            if unset(spec[path: ["updateStrategy", "type"]]) { spec[path: ["updateStrategy", "type"]] = "RollingUpdate" }
            if spec[path: ["updateStrategy", "type"]] == "RollingUpdate", unset(spec[path: ["updateStrategy", "rollingUpdate", "partition"]]) {
                spec[path: ["updateStrategy", "rollingUpdate", "partition"]] = 0
            }
            if spec["persistentVolumeClaimRetentionPolicy"] == nil {
                spec["persistentVolumeClaimRetentionPolicy"] = ["whenDeleted": "Retain", "whenScaled": "Retain"]
            }
        }
        if resource.kind == "DaemonSet" {
            if unset(spec[path: ["updateStrategy", "type"]]) { spec[path: ["updateStrategy", "type"]] = "RollingUpdate" }
            if spec[path: ["updateStrategy", "type"]] == "RollingUpdate" {
                if unset(spec[path: ["updateStrategy", "rollingUpdate", "maxUnavailable"]]) { spec[path: ["updateStrategy", "rollingUpdate", "maxUnavailable"]] = 1 }
                if unset(spec[path: ["updateStrategy", "rollingUpdate", "maxSurge"]]) { spec[path: ["updateStrategy", "rollingUpdate", "maxSurge"]] = 0 }
            }
        }
        if resource.kind == "Deployment" {
            if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = 600 }
            if unset(spec[path: ["strategy", "type"]]) { spec[path: ["strategy", "type"]] = "RollingUpdate" }
            if spec[path: ["strategy", "type"]] == "RollingUpdate" {
                if unset(spec[path: ["strategy", "rollingUpdate", "maxUnavailable"]]) { spec[path: ["strategy", "rollingUpdate", "maxUnavailable"]] = "25%" }
                if unset(spec[path: ["strategy", "rollingUpdate", "maxSurge"]]) { spec[path: ["strategy", "rollingUpdate", "maxSurge"]] = "25%" }
            }
        }
        if var template = spec["template"], var podSpec = template["spec"] {
            var pod: JSON = ["spec": podSpec]
            PodStrategy().prepareForCreate(&pod)
            podSpec = pod["spec"]!
            podSpec["serviceAccountName"] = nil
            podSpec["serviceAccount"] = nil
            podSpec["priority"] = nil
            podSpec["preemptionPolicy"] = nil
            podSpec["enableServiceLinks"] = nil
            template["spec"] = podSpec
            spec["template"] = template
        }
        object["spec"] = spec
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
    }

    var selectableFields: [String] {
        resource.kind == "ReplicaSet" || resource.kind == "ReplicationController" ? ["status.replicas"] : []
    }

    func fieldValue(_ field: String, of object: JSON) -> String {
        field == "status.replicas" ? String(object[path: ["status", "replicas"]]?.intValue ?? 0) : FieldSelector.value(of: field, in: object)
    }

    /// Deployments keep their labels through status writes too.
    func statusUpdate(_ object: JSON, old: JSON) -> JSON {
        let kept = resource.kind == "Deployment" ? ["annotations", "finalizers", "ownerReferences"]
                                                  : ["labels", "annotations", "finalizers", "ownerReferences"]
        return statusUpdate(object, old: old, keeping: kept)
    }

    /// apps/v1 workloads need a selector that selects their template's labels, and a pod
    /// template with containers (kube-apiserver refuses them otherwise: a Deployment without
    /// `spec` was stored).
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        guard resource.group == "apps" else { return [] }
        var causes: [StatusError.Cause] = []
        let matchLabels = object[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:]
        let expressions = object[path: ["spec", "selector", "matchExpressions"]]?.arrayValue ?? []
        if matchLabels.isEmpty && expressions.isEmpty {
            causes.append(.init(field: "spec.selector", type: "FieldValueRequired", message: "Required value"))
        } else {
            let labels = object[path: ["spec", "template", "metadata", "labels"]]?.objectValue ?? [:]
            if matchLabels.contains(where: { labels[$0.key] != $0.value }) {
                let shown = labels.keys.sorted().map { "\($0):\(labels[$0]?.stringValue ?? "")" }.joined(separator: " ")
                causes.append(.init(field: "spec.template.metadata.labels",
                                    message: "Invalid value: map[string]string{\(shown)}: `selector` does not match template `labels`"))
            }
        }
        if (object[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []).isEmpty {
            causes.append(.init(field: "spec.template.spec.containers", type: "FieldValueRequired", message: "Required value"))
        }
        return causes + PodSpecValidation.causes(object[path: ["spec", "template", "spec"]], path: "spec.template.spec")
    }

    var table: TablePrinter {
        let spec = ["spec", "template", "spec"]
        let ready = TableColumn("Ready") { object in
            .string("\(object[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(object[path: ["spec", "replicas"]]?.intValue ?? 0)")
        }
        switch resource.kind {
        case "Deployment":
            return TablePrinter(columns: [.name, ready, .count("Up-to-date", ["status", "updatedReplicas"]),
                                          .count("Available", ["status", "availableReplicas"]), .age,
                                          .containers(spec), .images(spec), .selector])
        case "StatefulSet":
            return TablePrinter(columns: [.name, ready, .age, .containers(spec), .images(spec)])
        case "DaemonSet":
            return TablePrinter(columns: [.name, .count("Desired", ["status", "desiredNumberScheduled"]),
                                          .count("Current", ["status", "currentNumberScheduled"]),
                                          .count("Ready", ["status", "numberReady"]),
                                          .count("Up-to-date", ["status", "updatedNumberScheduled"]),
                                          .count("Available", ["status", "numberAvailable"]), .age])
        default:
            return TablePrinter(columns: [.name, .count("Desired", ["spec", "replicas"]), .count("Current", ["status", "replicas"]),
                                          .count("Ready", ["status", "readyReplicas"]), .age,
                                          .containers(spec), .images(spec), .selector])
        }
    }
}
