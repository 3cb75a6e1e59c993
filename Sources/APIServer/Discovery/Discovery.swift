/// The discovery documents, built from the resource catalog and the aggregated API
/// servers' group versions: legacy (`/api`, `/api/v1`, `/apis`, `/apis/GROUP`, and
/// `/apis/GROUP/VERSION` of local group versions; an aggregated one's is proxied) and
/// aggregated (`APIGroupDiscoveryList`, with what each aggregated server's document listed).
public struct Discovery: Sendable {
    let catalog: ResourceCatalog
    /// The group versions of aggregated API servers, by priority.
    let remote: [RemoteGroupVersion]
    /// The groups in discovery order, each with its versions in preference order: the
    /// catalog's, then the aggregated ones.
    let groups: [(name: String, versions: [String])]

    public init(catalog: ResourceCatalog) { self.init(catalog: catalog, remote: []) }

    /// `remote`: group versions this server does not serve (``APIServiceRegistry`` decides).
    init(catalog: ResourceCatalog, remote: [RemoteGroupVersion]) {
        self.catalog = catalog
        let local = catalog.groups
        let ordered = remote.sorted { a, b in
                (-a.service.groupPriorityMinimum, a.service.group, -a.service.versionPriority, a.service.version)
                    < (-b.service.groupPriorityMinimum, b.service.group, -b.service.versionPriority, b.service.version)
            }
        self.remote = ordered
        var groups = local
        for entry in ordered {
            if let index = groups.firstIndex(where: { $0.name == entry.service.group }) {
                groups[index].versions.append(entry.service.version)
            } else {
                groups.append((entry.service.group, [entry.service.version]))
            }
        }
        self.groups = groups
    }

    /// `/api`.
    public static func coreVersions(serverAddress: String) -> JSON {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    /// `/apis`.
    public func groupList() -> JSON {
        ["kind": "APIGroupList", "apiVersion": "v1",
         "groups": .array(groups.filter { !$0.name.isEmpty }.map { group($0.name, $0.versions) })]
    }

    /// `/apis/GROUP`, `nil` for an unknown group.
    public func group(named name: String) -> JSON? {
        guard let entry = groups.first(where: { $0.name == name && !name.isEmpty }) else { return nil }
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
        let groups = self.groups.filter { core ? $0.name.isEmpty : !$0.name.isEmpty }
        let items: [JSON] = groups.compactMap { group in
            var item: JSON = ["metadata": ["name": .string(group.name)]]
            let versions: [JSON] = group.versions.compactMap { version in
                if let entry = remote.first(where: { $0.service.group == group.name && $0.service.version == version }) {
                    // An aggregated server's version is listed once its document was read.
                    guard let resources = entry.resources else { return nil }
                    return ["version": .string(version), "freshness": entry.fresh ? "Current" : "Stale",
                            "resources": .array(Self.aggregatedResources(resources, group: group.name, version: version))]
                }
                return ["version": .string(version), "freshness": "Current",
                        "resources": .array(catalog.resources(group: group.name, version: version).map(aggregatedResource))]
            }
            guard !versions.isEmpty else { return nil }
            item["versions"] = .array(versions)
            if core { item["metadata"] = ["creationTimestamp": .null] }
            return item
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": .string(apiVersion), "metadata": .emptyObject, "items": .array(items)]
    }

    /// An aggregated server's `APIResourceList` entries as aggregated discovery's resources:
    /// `NAME/SUB` entries become subresources of `NAME`. Only the fields' expected types are
    /// taken (the document is another server's).
    static func aggregatedResources(_ entries: [JSON], group: String, version: String) -> [JSON] {
        var resources: [JSON] = []
        var index: [String: Int] = [:]
        func kind(of entry: JSON) -> JSON {
            ["group": .string(entry["group"]?.stringValue ?? group), "version": .string(entry["version"]?.stringValue ?? version),
             "kind": .string(entry["kind"]?.stringValue ?? "")]
        }
        func strings(_ value: JSON?) -> JSON { .array((value?.arrayValue ?? []).compactMap { $0.stringValue.map(JSON.string) }) }
        for entry in entries {
            guard let name = entry["name"]?.stringValue, !name.isEmpty, !name.contains("/") else { continue }
            var resource: JSON = ["resource": .string(name), "singularResource": .string(entry["singularName"]?.stringValue ?? ""),
                                  "scope": entry["namespaced"]?.boolValue == true ? "Namespaced" : "Cluster",
                                  "responseKind": kind(of: entry), "verbs": strings(entry["verbs"])]
            if let shortNames = entry["shortNames"]?.arrayValue, !shortNames.isEmpty { resource["shortNames"] = strings(entry["shortNames"]) }
            if let categories = entry["categories"]?.arrayValue, !categories.isEmpty { resource["categories"] = strings(entry["categories"]) }
            index[name] = resources.count
            resources.append(resource)
        }
        for entry in entries {
            guard let name = entry["name"]?.stringValue else { continue }
            let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let parent = index[parts[0]] else { continue }
            var subresources = resources[parent]["subresources"]?.arrayValue ?? []
            subresources.append(["subresource": .string(parts[1]), "responseKind": kind(of: entry), "verbs": strings(entry["verbs"])])
            resources[parent]["subresources"] = .array(subresources)
        }
        return resources
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
