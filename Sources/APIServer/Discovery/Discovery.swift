/// The discovery documents, built from the resource catalog: legacy (`/api`, `/api/v1`,
/// `/apis`, `/apis/GROUP`, `/apis/GROUP/VERSION`) and aggregated (`APIGroupDiscoveryList`).
public struct Discovery: Sendable {
    let catalog: ResourceCatalog

    public init(catalog: ResourceCatalog) { self.catalog = catalog }

    /// `/api`.
    public static func coreVersions(serverAddress: String) -> JSON {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    /// `/apis`.
    public func groupList() -> JSON {
        ["kind": "APIGroupList", "apiVersion": "v1",
         "groups": .array(catalog.groups.filter { !$0.name.isEmpty }.map { group($0.name, $0.versions) })]
    }

    /// `/apis/GROUP`, `nil` for an unknown group.
    public func group(named name: String) -> JSON? {
        guard let entry = catalog.groups.first(where: { $0.name == name && !name.isEmpty }) else { return nil }
        var document = group(entry.name, entry.versions)
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return document
    }

    private func group(_ name: String, _ versions: [String]) -> JSON {
        let list: [JSON] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(list), "preferredVersion": list[0]]
    }

    /// `/api/v1` or `/apis/GROUP/VERSION`, `nil` for an unknown group version.
    public func resourceList(group: String, version: String) -> JSON? {
        let resources = catalog.resources(group: group, version: version)
        guard !resources.isEmpty else { return nil }
        var entries: [JSON] = []
        for r in resources {
            var entry: JSON = ["name": .string(r.plural), "singularName": .string(r.singular), "namespaced": .bool(r.namespaced),
                               "kind": .string(r.kind), "verbs": .array(r.verbs.map { .string($0) })]
            if !r.shortNames.isEmpty { entry["shortNames"] = .array(r.shortNames.map { .string($0) }) }
            if !r.categories.isEmpty { entry["categories"] = .array(r.categories.map { .string($0) }) }
            entries.append(entry)
            for sub in r.subresources {
                let target = r.subresourceKind(sub)
                var subEntry: JSON = ["name": .string("\(r.plural)/\(sub)"), "singularName": "", "namespaced": .bool(r.namespaced),
                                      "kind": .string(target.kind), "verbs": .array(target.verbs.map { .string($0) })]
                if target.group != r.group || target.version != r.version {
                    subEntry["group"] = .string(target.group)
                    subEntry["version"] = .string(target.version)
                }
                entries.append(subEntry)
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(entries)]
    }

    /// The aggregated discovery document of `/api` (`core`) or `/apis` (every other group).
    public func aggregated(core: Bool, apiVersion: String) -> JSON {
        let groups = catalog.groups.filter { core ? $0.name.isEmpty : !$0.name.isEmpty }
        let items: [JSON] = groups.map { group in
            var item: JSON = ["metadata": ["name": .string(group.name)]]
            item["versions"] = .array(group.versions.map { version in
                ["version": .string(version), "freshness": "Current",
                 "resources": .array(catalog.resources(group: group.name, version: version).map(aggregatedResource))]
            })
            if core { item["metadata"] = ["creationTimestamp": .null] }
            return item
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": .string(apiVersion), "metadata": .emptyObject, "items": .array(items)]
    }

    private func aggregatedResource(_ r: ResourceDescriptor) -> JSON {
        var entry: JSON = [
            "resource": .string(r.plural), "singularResource": .string(r.singular),
            "scope": r.namespaced ? "Namespaced" : "Cluster",
            "responseKind": ["group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind)],
            "verbs": .array(r.verbs.map { .string($0) }),
        ]
        if !r.shortNames.isEmpty { entry["shortNames"] = .array(r.shortNames.map { .string($0) }) }
        if !r.categories.isEmpty { entry["categories"] = .array(r.categories.map { .string($0) }) }
        if !r.subresources.isEmpty {
            entry["subresources"] = .array(r.subresources.map { sub in
                let target = r.subresourceKind(sub)
                let kind: JSON = ["group": .string(target.group), "version": .string(target.version), "kind": .string(target.kind)]
                return ["subresource": .string(sub), "responseKind": kind, "verbs": .array(target.verbs.map { .string($0) })]
            })
        }
        return entry
    }
}
