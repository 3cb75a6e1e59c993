/// kube-apiserver's PodSecurity admission: a namespace's `pod-security.kubernetes.io/enforce`,
/// `warn` and `audit` labels name a level (privileged, baseline, restricted; versions are
/// read as `latest`). New pods that break the enforced level are refused with every reason;
/// pods and workload templates that break the warn level get `Warning`s, and the audit level's
/// violations are recorded in the request's audit event.
public struct PodSecurityAdmission: AdmissionPlugin {
    typealias Level = PodSecurityStandards.Level
    static let labelPrefix = "pod-security.kubernetes.io/"
    /// Resources whose pod template is checked for warnings and audit (never enforced).
    static let workloads: Set<String> = ["/podtemplates", "/replicationcontrollers", "apps/deployments", "apps/replicasets",
                                         "apps/statefulsets", "apps/daemonsets", "batch/jobs", "batch/cronjobs"]
    let store: any ObjectStore

    public init(store: any ObjectStore) {
        self.store = store
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.subresource.isEmpty, !request.namespace.isEmpty else { return .none }
        let isPod = request.isCore("pods")
        let resourceKey = request.resource.group + "/" + request.resource.plural
        guard isPod || Self.workloads.contains(resourceKey) else { return .none }
        // Pod updates only change what the checks do not read (labels, annotations, images).
        if isPod && request.operation == .update { return .none }
        guard let pod = Self.podView(object, resourceKey: resourceKey) else { return .none }
        if let old = request.old, Self.podView(old, resourceKey: resourceKey)?.spec == pod.spec { return .none }

        let namespaceKey = RegistryKey(group: "", resource: "namespaces", namespace: nil, name: request.namespace).path
        let labels = (try await store.get(namespaceKey))?.object[path: ["metadata", "labels"]]?.objectValue ?? [:]
        func level(_ mode: String) -> Level? {
            guard let text = labels[Self.labelPrefix + mode]?.stringValue else { return nil }
            guard let level = Level(rawValue: text) else { return .restricted }
            return level
        }
        var outcome = AdmissionOutcome()
        if isPod, let enforce = level("enforce") {
            let found = PodSecurityStandards.violations(pod, level: enforce)
            if !found.isEmpty {
                throw StatusError(code: 403, reason: "Forbidden",
                                  message: "pods \"\(request.name)\" is forbidden: violates PodSecurity \"\(enforce.rawValue):latest\": \(found.joined(separator: ", "))",
                                  details: ["name": .string(request.name), "kind": "pods"])
            }
        }
        if let warn = level("warn") {
            let found = PodSecurityStandards.violations(pod, level: warn)
            if !found.isEmpty {
                let subject = isPod ? "" : "\(request.resource.kind.lowercased()) \"\(request.name)\" "
                outcome.warnings.append("\(subject)would violate PodSecurity \"\(warn.rawValue):latest\": \(found.joined(separator: ", "))")
            }
        }
        if let audit = level("audit") {
            let found = PodSecurityStandards.violations(pod, level: audit)
            if !found.isEmpty {
                outcome.auditAnnotations["pod-security.kubernetes.io/audit-violations"] =
                    "would violate PodSecurity \"\(audit.rawValue):latest\": \(found.joined(separator: ", "))"
            }
        }
        return outcome
    }

    /// The pod spec a pod or workload carries (CronJobs one level deeper).
    static func podView(_ object: JSON, resourceKey: String) -> PodSecurityStandards.PodView? {
        switch resourceKey {
        case "/pods": return PodSecurityStandards.PodView(metadata: object["metadata"] ?? .emptyObject, spec: object["spec"] ?? .emptyObject)
        case "/podtemplates": return object["template"].map(template)
        case "batch/cronjobs": return object[path: ["spec", "jobTemplate", "spec", "template"]].map(template)
        default: return object[path: ["spec", "template"]].map(template)
        }
    }

    private static func template(_ template: JSON) -> PodSecurityStandards.PodView {
        PodSecurityStandards.PodView(metadata: template["metadata"] ?? .emptyObject, spec: template["spec"] ?? .emptyObject)
    }
}
