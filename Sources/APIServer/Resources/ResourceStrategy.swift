import Foundation

/// The type-specific behaviour of a resource, plugged into the generic engine: defaults and
/// resets on create and update, the name rule, and the extra fields its field selectors know.
public protocol ResourceStrategy: Sendable {
    /// Sets what the server owns on a new object (status resets, defaults).
    func prepareForCreate(_ object: inout JSON)
    /// Carries over what an update of the main resource may not change.
    func prepareForUpdate(_ object: inout JSON, old: JSON)
    /// The object a write to the status subresource stores: `old` with the client's status
    /// and what else kube-apiserver's status strategy lets it change.
    func statusUpdate(_ object: JSON, old: JSON) -> JSON
    /// The object a write to a subresource stores (`object` carries the metadata the client
    /// may write); nil for a subresource the kind does not write this way.
    func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON?
    /// Errors of the object's name (empty = valid).
    func nameErrors(_ name: String) -> [String]
    /// Field selector fields beyond `metadata.name` and `metadata.namespace`.
    var selectableFields: [String] { get }
    /// A selectable field's value as field selectors compare it (kube-apiserver's field set:
    /// Go's zero value when the field is absent, derived values where it derives them).
    func fieldValue(_ field: String, of object: JSON) -> String
    /// Sets what depends on the object as admission left it (a pod's QoS class).
    func finishCreate(_ object: inout JSON)
    /// The problems of an object about to be stored (`old`: the object an update replaces).
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause]
    /// Turns a stored object into what a request for this resource's version returns.
    func present(_ object: inout JSON)
}

extension ResourceStrategy {
    public func finishCreate(_ object: inout JSON) {}
    public func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] { [] }
    public func present(_ object: inout JSON) {}
    public func nameErrors(_ name: String) -> [String] { NameValidation.subdomainErrors(name) }
    public var selectableFields: [String] { [] }
    public func fieldValue(_ field: String, of object: JSON) -> String { FieldSelector.value(of: field, in: object) }
    public func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        subresource == "status" ? statusUpdate(object, old: old) : nil
    }

    /// Most status strategies reset only the spec: labels, annotations, finalizers and owner
    /// references written through `/status` are kept.
    public func statusUpdate(_ object: JSON, old: JSON) -> JSON {
        statusUpdate(object, old: old, keeping: ["labels", "annotations", "finalizers", "ownerReferences"])
    }

    /// `old` with the client's status and the client's values of these metadata members.
    func statusUpdate(_ object: JSON, old: JSON, keeping metadata: [String]) -> JSON {
        var new = old
        new["status"] = object["status"]
        for key in metadata { new[path: ["metadata", key]] = object[path: ["metadata", key]] }
        return new
    }
}

/// The strategy of resources without special rules: objects with a status subresource
/// start with an empty status (`{}`, as Kubernetes writes a zero status), and updates of the
/// main resource keep the stored status.
public struct DefaultStrategy: ResourceStrategy {
    let resource: ResourceDescriptor
    public init(_ resource: ResourceDescriptor) { self.resource = resource }

    public func prepareForCreate(_ object: inout JSON) {
        if resource.hasStatusSubresource { object["status"] = .emptyObject }
    }

    public func prepareForUpdate(_ object: inout JSON, old: JSON) {
        if resource.hasStatusSubresource { object["status"] = old["status"] }
    }

    public var selectableFields: [String] {
        resource.group == "certificates.k8s.io" && resource.kind == "CertificateSigningRequest" ? ["spec.signerName"] : []
    }

    /// Kinds whose status writes change nothing else (kube-apiserver resets their metadata).
    static let statusOnly: Set<String> = ["ServiceCIDR", "ResourceClaim", "VolumeAttachment", "StorageVersion", "FlowSchema",
                                          "PriorityLevelConfiguration", "PodCertificateRequest"]

    public func statusUpdate(_ object: JSON, old: JSON) -> JSON {
        let kept = Self.statusOnly.contains(resource.kind) ? [] : ["labels", "annotations", "finalizers", "ownerReferences"]
        return statusUpdate(object, old: old, keeping: kept)
    }

    /// A CSR's `approval` changes its conditions, and metadata as a status write does; the
    /// rest of the status stays.
    public func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        switch subresource {
        case "status": return statusUpdate(object, old: old)
        case "approval" where resource.kind == "CertificateSigningRequest":
            var approved = statusUpdate(object, old: old)
            approved["status"] = old["status"]
            approved[path: ["status", "conditions"]] = object[path: ["status", "conditions"]]
            return approved
        default: return nil
        }
    }
}

/// Namespaces: DNS-1123 labels, `status.phase` Active, the `kubernetes` finalizer.
struct NamespaceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Active"]
        var finalizers = object[path: ["spec", "finalizers"]]?.arrayValue ?? []
        if !finalizers.contains("kubernetes") { finalizers.append("kubernetes") }
        object[path: ["spec", "finalizers"]] = .array(finalizers)
        Self.labelName(&object)
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        object[path: ["spec", "finalizers"]] = old[path: ["spec", "finalizers"]]
        Self.labelName(&object)
    }

    /// Every namespace carries its name as the `kubernetes.io/metadata.name` label.
    static func labelName(_ object: inout JSON) {
        if let name = object[path: ["metadata", "name"]]?.stringValue {
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
        }
    }

    func nameErrors(_ name: String) -> [String] { NameValidation.labelErrors(name) }
    var selectableFields: [String] { ["status.phase"] }

    /// `finalize` changes anything but the status (spec.finalizers above all).
    func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        switch subresource {
        case "status": return statusUpdate(object, old: old)
        case "finalize":
            var finalized = object
            finalized["status"] = old["status"]
            return finalized
        default: return nil
        }
    }
}

/// Pods: a new pod is Pending, with the spec defaults every pod gets.
struct PodStrategy: ResourceStrategy {
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        PodSpecValidation.causes(object["spec"], path: "spec")
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

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
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
}

/// Services: DNS-1035 names, type and session affinity defaults, empty load balancer status.
struct ServiceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["loadBalancer": .emptyObject]
        var spec = object["spec"] ?? .emptyObject
        if spec["type"] == nil { spec["type"] = "ClusterIP" }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
        if let ports = spec["ports"]?.arrayValue {
            spec["ports"] = .array(ports.map { port in
                var p = port
                if p["protocol"] == nil { p["protocol"] = "TCP" }
                if p["targetPort"] == nil { p["targetPort"] = p["port"] }
                return p
            })
        }
        object["spec"] = spec
    }

    /// The allocated addresses stay: an update that leaves them out keeps them.
    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] where object[path: ["spec", field]] == nil {
            object[path: ["spec", field]] = old[path: ["spec", field]]
        }
        if let ports = object[path: ["spec", "ports"]]?.arrayValue, let oldPorts = old[path: ["spec", "ports"]]?.arrayValue {
            object[path: ["spec", "ports"]] = .array(ports.map { port in
                var p = port
                if p["nodePort"] == nil, let match = oldPorts.first(where: { $0["port"] == port["port"] }) {
                    p["nodePort"] = match["nodePort"]
                }
                return p
            })
        }
    }

    func nameErrors(_ name: String) -> [String] { NameValidation.dns1035LabelErrors(name) }

    var selectableFields: [String] { ["spec.clusterIP", "spec.type"] }
}

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
        if ["Deployment", "StatefulSet", "DaemonSet"].contains(resource.kind), spec["revisionHistoryLimit"] == nil {
            spec["revisionHistoryLimit"] = 10
        }
        if resource.kind == "StatefulSet" {
            if spec["podManagementPolicy"] == nil { spec["podManagementPolicy"] = "OrderedReady" }
            if spec[path: ["updateStrategy", "type"]] == nil {
                spec["updateStrategy"] = ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]]
            }
            if spec["persistentVolumeClaimRetentionPolicy"] == nil {
                spec["persistentVolumeClaimRetentionPolicy"] = ["whenDeleted": "Retain", "whenScaled": "Retain"]
            }
        }
        if resource.kind == "DaemonSet", spec[path: ["updateStrategy", "type"]] == nil {
            spec["updateStrategy"] = ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]]
        }
        if resource.kind == "Deployment" {
            if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = 600 }
            if spec[path: ["strategy", "type"]] == nil {
                spec["strategy"] = ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]]
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
}

/// Jobs: the spec defaults, and the selector and pod labels that tie a job to its pods by
/// the job's uid (unless `manualSelector`).
struct JobStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        object["status"] = .emptyObject
        var spec = object["spec"] ?? .emptyObject
        JobStrategy.defaultSpec(&spec)
        if spec["manualSelector"] != true, let uid = object[path: ["metadata", "uid"]]?.stringValue {
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            spec["selector"] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
            var labels = spec[path: ["template", "metadata", "labels"]]?.objectValue ?? [:]
            labels["batch.kubernetes.io/controller-uid"] = .string(uid)
            labels["batch.kubernetes.io/job-name"] = .string(name)
            labels["controller-uid"] = .string(uid)
            labels["job-name"] = .string(name)
            spec[path: ["template", "metadata", "labels"]] = .object(labels)
        }
        object["spec"] = spec
    }

    /// The defaults of a JobSpec (also inside a CronJob's job template).
    static func defaultSpec(_ spec: inout JSON) {
        if spec["completions"] == nil && spec["parallelism"] == nil { spec["completions"] = 1 }
        if spec["parallelism"] == nil { spec["parallelism"] = 1 }
        if spec["backoffLimit"] == nil { spec["backoffLimit"] = 6 }
        if spec["completionMode"] == nil { spec["completionMode"] = "NonIndexed" }
        if spec["suspend"] == nil { spec["suspend"] = false }
        if spec["podReplacementPolicy"] == nil { spec["podReplacementPolicy"] = "TerminatingOrFailed" }
        if var template = spec["template"], template["spec"] != nil {
            var pod: JSON = ["spec": template["spec"]!]
            PodStrategy().prepareForCreate(&pod)
            var podSpec = pod["spec"]!
            for key in ["serviceAccountName", "serviceAccount", "priority", "preemptionPolicy", "enableServiceLinks"] { podSpec[key] = nil }
            template["spec"] = podSpec
            spec["template"] = template
        }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }
    var selectableFields: [String] { ["status.successful"] }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        PodSpecValidation.causes(object[path: ["spec", "template", "spec"]], path: "spec.template.spec")
    }

    func fieldValue(_ field: String, of object: JSON) -> String {
        field == "status.successful" ? String(object[path: ["status", "succeeded"]]?.intValue ?? 0) : FieldSelector.value(of: field, in: object)
    }
}

/// CronJobs: the spec defaults, and the job template's.
struct CronJobStrategy: ResourceStrategy {
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        PodSpecValidation.causes(object[path: ["spec", "jobTemplate", "spec", "template", "spec"]],
                                 path: "spec.jobTemplate.spec.template.spec")
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = .emptyObject
        var spec = object["spec"] ?? .emptyObject
        if spec["concurrencyPolicy"] == nil { spec["concurrencyPolicy"] = "Allow" }
        if spec["suspend"] == nil { spec["suspend"] = false }
        if spec["successfulJobsHistoryLimit"] == nil { spec["successfulJobsHistoryLimit"] = 3 }
        if spec["failedJobsHistoryLimit"] == nil { spec["failedJobsHistoryLimit"] = 1 }
        if var jobSpec = spec[path: ["jobTemplate", "spec"]] {
            JobStrategy.defaultSpec(&jobSpec)
            jobSpec["completions"] = nil
            jobSpec["parallelism"] = nil
            spec[path: ["jobTemplate", "spec"]] = jobSpec
        }
        object["spec"] = spec
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }
}

/// Secrets: the type defaults to Opaque and is a selectable field; `stringData` is a
/// write-only convenience merged into `data` (base64) and never stored.
struct SecretStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        if object["type"] == nil { object["type"] = "Opaque" }
        Self.mergeStringData(&object)
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        Self.mergeStringData(&object)
    }

    static func mergeStringData(_ object: inout JSON) {
        guard let strings = object["stringData"]?.objectValue else { return }
        var data = object["data"]?.objectValue ?? [:]
        for (key, value) in strings {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        object["data"] = .object(data)
        object["stringData"] = nil
    }

    var selectableFields: [String] { ["type"] }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        ConfigDataValidation.causes(object, fields: ["data"], kind: "Secret")
    }
}

/// ConfigMaps: keys and size checked as kube-apiserver checks them.
struct ConfigMapStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {}
    func prepareForUpdate(_ object: inout JSON, old: JSON) {}

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        ConfigDataValidation.causes(object, fields: ["data", "binaryData"], kind: "ConfigMap")
    }
}

/// Events: the fields `kubectl get events --field-selector` uses.
struct EventStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {}
    func prepareForUpdate(_ object: inout JSON, old: JSON) {}
    var selectableFields: [String] {
        ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
         "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
         "reason", "reportingComponent", "source", "type"]
    }

    func fieldValue(_ field: String, of object: JSON) -> String {
        guard field == "source" else { return FieldSelector.value(of: field, in: object) }
        // The source component, or the reporting controller of events written without one.
        let component = FieldSelector.value(of: "source.component", in: object)
        return component.isEmpty ? FieldSelector.value(of: "reportingComponent", in: object) : component
    }
}

/// Nodes: `spec.unschedulable` is selectable; status is the kubelet's.
struct NodeStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {}
    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }
    var selectableFields: [String] { ["spec.unschedulable"] }

    func fieldValue(_ field: String, of object: JSON) -> String {
        guard field == "spec.unschedulable" else { return FieldSelector.value(of: field, in: object) }
        return object[path: ["spec", "unschedulable"]]?.boolValue == true ? "true" : "false"
    }
}

/// PersistentVolumes and claims start Pending (a volume also records when its phase changed);
/// the status is the volume controllers'.
struct PersistentVolumeStrategy: ResourceStrategy {
    let resource: ResourceDescriptor

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = resource.kind == "PersistentVolume"
            ? ["phase": "Pending", "lastPhaseTransitionTime": .string(ResourceEngine.now())]
            : ["phase": "Pending"]
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }
}

/// RBAC roles and bindings: any name that can be a path segment (`system:basic-user`).
struct RBACStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {}
    func prepareForUpdate(_ object: inout JSON, old: JSON) {}
    func nameErrors(_ name: String) -> [String] { NameValidation.pathSegmentErrors(name) }
}

extension ResourceDescriptor {
    /// The strategy the engine uses for this resource.
    public var strategy: any ResourceStrategy {
        if let custom { return CustomResourceStrategy(resource: self, info: custom) }
        switch (group, kind) {
        case ("", "Namespace"): return NamespaceStrategy()
        case ("", "Pod"): return PodStrategy()
        case ("", "Service"): return ServiceStrategy()
        case ("", "Secret"): return SecretStrategy()
        case ("", "ConfigMap"): return ConfigMapStrategy()
        case ("", "Event"): return EventStrategy()
        case ("events.k8s.io", "Event"): return EventsV1Strategy()
        case ("networking.k8s.io", "IPAddress"): return IPAddressStrategy()
        case ("", "Node"): return NodeStrategy()
        case ("", "PersistentVolume"), ("", "PersistentVolumeClaim"): return PersistentVolumeStrategy(resource: self)
        case ("batch", "Job"): return JobStrategy()
        case ("batch", "CronJob"): return CronJobStrategy()
        case ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
             ("", "ReplicationController"):
            return WorkloadStrategy(resource: self)
        case ("rbac.authorization.k8s.io", _): return RBACStrategy()
        case ("apiextensions.k8s.io", "CustomResourceDefinition"): return CustomResourceDefinitionStrategy()
        default: return DefaultStrategy(self)
        }
    }
}
