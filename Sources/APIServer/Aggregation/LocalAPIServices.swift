/// Registers an APIService for every group version this server serves itself, as
/// kube-apiserver's autoregistration does: built-in ones labelled
/// `kube-aggregator.kubernetes.io/automanaged: onstart`, custom resources' `true` (and
/// removed with their last version). An APIService a user gave a Service is left alone.
struct LocalAPIServices: Sendable {
    static let automanaged = "kube-aggregator.kubernetes.io/automanaged"

    let catalog: ResourceCatalog
    /// The APIServices there are (from its watch: a registration costs no store read).
    let registry: APIServiceRegistry
    let client: LoopbackClient

    /// kube-apiserver's group and version priorities for the built-in group versions.
    static let priorities: [String: (group: Int, version: Int)] = [
        "/v1": (18000, 1), "apps/v1": (17800, 15), "events.k8s.io/v1": (17750, 15),
        "authentication.k8s.io/v1": (17700, 15), "authorization.k8s.io/v1": (17600, 15),
        "autoscaling/v1": (17500, 15), "autoscaling/v2": (17500, 30), "batch/v1": (17400, 15),
        "certificates.k8s.io/v1": (17300, 15), "networking.k8s.io/v1": (17200, 15), "policy/v1": (17100, 15),
        "rbac.authorization.k8s.io/v1": (17000, 15), "storage.k8s.io/v1": (16800, 15),
        "apiextensions.k8s.io/v1": (16700, 15), "admissionregistration.k8s.io/v1": (16700, 15),
        "scheduling.k8s.io/v1": (16600, 15), "coordination.k8s.io/v1": (16500, 15), "node.k8s.io/v1": (16300, 15),
        "discovery.k8s.io/v1": (16200, 15), "resource.k8s.io/v1": (16200, 21), "flowcontrol.apiserver.k8s.io/v1": (16100, 21),
        "apiregistration.k8s.io/v1": (16000, 15),
    ]

    /// Creates the missing local APIServices and removes custom resources' ones whose group
    /// version is no longer served.
    func register() async throws {
        let custom = Set(catalog.resources.filter { $0.custom != nil }.map { $0.group + "/" + $0.version })
        let existing = registry.services
        let names = Set(existing.map(\.name))
        var wanted: Set<String> = []
        for group in catalog.groups {
            for version in group.versions {
                let groupVersion = group.name + "/" + version
                let name = AggregatedAPIService.name(group: group.name, version: version)
                wanted.insert(name)
                // One written a moment ago and not watched yet is simply not created twice.
                guard !names.contains(name) else { continue }
                let isCustom = custom.contains(groupVersion)
                let priority = isCustom ? (1000, 100) : Self.priorities[groupVersion] ?? (15000, 9)
                var object = JSON.newObject(apiVersion: "apiregistration.k8s.io/v1", kind: "APIService", name: name,
                                            labels: [Self.automanaged: .string(isCustom ? "true" : "onstart")])
                object["spec"] = ["group": .string(group.name), "version": .string(version),
                                  "groupPriorityMinimum": .int(Int64(priority.0)), "versionPriority": .int(Int64(priority.1))]
                try await client.create(Self.key(name), object)
            }
        }
        // A custom resource's version that is gone takes its APIService with it.
        let stale = existing.filter { $0.automanagedForCustomResource && $0.service == nil && !wanted.contains($0.name) }.map(\.name)
        for name in stale { try await client.delete(Self.key(name)) }
    }

    static func key(_ name: String) -> String {
        RegistryKey(group: "apiregistration.k8s.io", resource: "apiservices", namespace: nil, name: name).path
    }
}
