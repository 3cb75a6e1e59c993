import Foundation
import OpenAPIDocuments

/// Every served resource, looked up by group, version and plural (or short name).
public struct ResourceCatalog: Sendable {
    public private(set) var resources: [ResourceDescriptor]
    private var byPath: [String: ResourceDescriptor]

    public init(_ resources: [ResourceDescriptor]) {
        self.resources = resources
        var byPath: [String: ResourceDescriptor] = [:]
        for r in resources { byPath["\(r.group)/\(r.version)/\(r.plural)"] = r }
        self.byPath = byPath
    }

    /// The built-in resources of Kubernetes 1.34 that Skiff serves.
    public static func builtIn() throws -> ResourceCatalog {
        struct File: Decodable { var resources: [ResourceDescriptor] }
        return ResourceCatalog(try JSONDecoder().decode(File.self, from: OpenAPIDocuments.resources()).resources)
    }

    public func resource(group: String, version: String, plural: String) -> ResourceDescriptor? {
        byPath["\(group)/\(version)/\(plural)"]
    }

    /// The API groups in discovery order (core first, then as listed), each with its versions
    /// in preference order.
    public var groups: [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for r in resources {
            if versions[r.group] == nil { order.append(r.group) }
            if !versions[r.group, default: []].contains(r.version) { versions[r.group, default: []].append(r.version) }
        }
        return order.map { ($0, versions[$0]!) }
    }

    /// The resources of one group version.
    public func resources(group: String, version: String) -> [ResourceDescriptor] {
        resources.filter { $0.group == group && $0.version == version }
    }

    /// The preferred version of a group.
    public func preferredVersion(of group: String) -> String? {
        groups.first { $0.name == group }?.versions.first
    }
}
