import Foundation
import OpenAPIDocuments
import Synchronization

/// Every served resource, looked up by group, version and plural: the built-in ones, and the
/// custom resources their definitions add and take away while the server runs (a shared
/// reference: every part of the server sees the same, current catalog).
public final class ResourceCatalog: Sendable {
    private struct State {
        var resources: [ResourceDescriptor]
        var byPath: [String: ResourceDescriptor]
        /// Counts changes, so that documents built from the catalog know when to rebuild.
        var generation: Int
    }

    private let builtIn: [ResourceDescriptor]
    private let state: Mutex<State>

    public init(_ resources: [ResourceDescriptor]) {
        builtIn = resources
        state = Mutex(State(resources: resources, byPath: Self.index(resources), generation: 0))
    }

    private static func index(_ resources: [ResourceDescriptor]) -> [String: ResourceDescriptor] {
        var byPath: [String: ResourceDescriptor] = [:]
        for r in resources { byPath["\(r.group)/\(r.version)/\(r.plural)"] = r }
        return byPath
    }

    /// The built-in resources of Kubernetes 1.34 that Skiff serves.
    public static func builtIn() throws -> ResourceCatalog {
        struct File: Decodable { var resources: [ResourceDescriptor] }
        return ResourceCatalog(try JSONDecoder().decode(File.self, from: OpenAPIDocuments.resources()).resources)
    }

    /// Replaces the custom resources (served after the built-in ones).
    public func setCustomResources(_ custom: [ResourceDescriptor]) {
        let all = builtIn + custom.filter { r in !builtIn.contains { $0.group == r.group && $0.plural == r.plural } }
        state.withLock {
            guard $0.resources != all else { return }
            $0.resources = all
            $0.byPath = Self.index(all)
            $0.generation += 1
        }
    }

    public var resources: [ResourceDescriptor] { state.withLock { $0.resources } }
    public var generation: Int { state.withLock { $0.generation } }

    public func resource(group: String, version: String, plural: String) -> ResourceDescriptor? {
        state.withLock { $0.byPath["\(group)/\(version)/\(plural)"] }
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
