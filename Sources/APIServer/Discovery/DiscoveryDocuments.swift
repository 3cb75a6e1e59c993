/// The discovery documents, serialized once for each state of the catalog and the
/// aggregated API servers: kubectl reads them at the start of every command.
struct DiscoveryDocuments: Sendable {
    /// Legacy documents by path (`/api/v1`, `/apis`, `/apis/G`, `/apis/G/V`; `/api` names
    /// the server's address and is made per request).
    let legacy: [String: [UInt8]]
    /// Aggregated documents by `core` and apidiscovery version (`v2`, `v2beta1`).
    private let aggregated: [String: [UInt8]]

    init(_ discovery: Discovery, catalog: ResourceCatalog) {
        var legacy: [String: [UInt8]] = ["/apis": discovery.groupList().serialized()]
        for group in discovery.groups {
            if let document = discovery.group(named: group.name) { legacy["/apis/\(group.name)"] = document.serialized() }
            for version in group.versions {
                let path = group.name.isEmpty ? "/api/\(version)" : "/apis/\(group.name)/\(version)"
                legacy[path] = discovery.resourceList(group: group.name, version: version)?.serialized()
            }
        }
        self.legacy = legacy
        var aggregated: [String: [UInt8]] = [:]
        for core in [true, false] {
            for version in ["v2", "v2beta1"] {
                aggregated["\(core)/\(version)"] = discovery.aggregated(core: core, apiVersion: "apidiscovery.k8s.io/\(version)").serialized()
            }
        }
        self.aggregated = aggregated
    }

    func aggregated(core: Bool, version: String) -> [UInt8]? { aggregated["\(core)/\(version)"] }
}
