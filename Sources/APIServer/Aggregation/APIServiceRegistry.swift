import Logging
import Synchronization

/// The APIServices, kept in memory from a watch on every server, and what each aggregated
/// API server's discovery document listed when last fetched: which requests to proxy
/// where, and what discovery merges in. A group version this server serves itself is never
/// remote, whatever an APIService says (decided here, for routing, discovery and namespace
/// deletion alike).
public final class APIServiceRegistry: Sendable {
    /// The APIService objects.
    let objects: WatchedObjects
    /// What this server serves itself.
    let catalog: ResourceCatalog
    private let state = Mutex(State())

    private struct State {
        var parsedGeneration = -1
        var services: [AggregatedAPIService] = []
        var byGroupVersion: [String: AggregatedAPIService] = [:]
        /// By APIService name: what its last discovery document listed.
        var discovered: [String: Discovered] = [:]
        /// By APIService name: where its server's OpenAPI v3 document of the group version is.
        var openAPIPaths: [String: String] = [:]
        var discoveryGeneration = 0
        /// Times each APIService became unavailable, by name and reason.
        var unavailableTransitions: [String: Int] = [:]
    }

    /// A discovery document's resources, their names (for request metrics), and whether the
    /// last fetch succeeded.
    private struct Discovered {
        var resources: [JSON]
        var names: Set<String>
        var fresh: Bool
    }

    /// At most this many resources of one aggregated group version are kept for discovery.
    static let resourceLimit = 1000

    public init(store: any ObjectStore, catalog: ResourceCatalog, logger: Logger) {
        self.catalog = catalog
        objects = WatchedObjects(prefix: RegistryKey.resourcePrefix(group: "apiregistration.k8s.io", resource: "apiservices"),
                                 store: store, logger: logger)
    }

    /// Reads every APIService; call before serving.
    public func load() async throws { try await objects.load() }

    /// Follows the APIServices until cancelled.
    public func run() async { await objects.run() }

    /// Every APIService, parsed, in name order.
    var services: [AggregatedAPIService] { parsed { $0.services } }

    /// The APIService served by an aggregated API server for `group`/`version`, if one is
    /// registered and this server does not serve the group version itself.
    func remote(group: String, version: String) -> AggregatedAPIService? {
        guard let service = parsed({ $0.byGroupVersion[group + "/" + version] }), isRemote(service) else { return nil }
        return service
    }

    /// Whether `service` is served by an aggregated API server: it names a Service, and its
    /// group version is not one this server serves (the core group always is).
    private func isRemote(_ service: AggregatedAPIService) -> Bool {
        service.service != nil && !service.group.isEmpty && catalog.resources(group: service.group, version: service.version).isEmpty
    }

    /// Changes whenever the APIServices or a fetched discovery document change.
    var generation: (services: Int, discovery: Int) {
        (objects.snapshot.generation, state.withLock { $0.discoveryGeneration })
    }

    /// The aggregated API servers' group versions and what their discovery listed.
    var remoteGroupVersions: [RemoteGroupVersion] {
        let services = services.filter(isRemote)
        return state.withLock { state in
            services.map { service in
                let found = state.discovered[service.name]
                return RemoteGroupVersion(service: service, resources: found?.resources, fresh: found?.fresh ?? false)
            }
        }
    }

    /// Records a fetched discovery document (its `resources`), or a failed fetch (nil: the
    /// last resources are kept, marked stale).
    func recordDiscovery(_ name: String, resources: [JSON]?) {
        state.withLock { state in
            let before = state.discovered[name]
            var after = before ?? Discovered(resources: [], names: [], fresh: false)
            after.fresh = resources != nil
            if let resources {
                after.resources = Array(resources.prefix(Self.resourceLimit))
                after.names = Set(after.resources.compactMap { $0["name"]?.stringValue })
            }
            guard before?.fresh != after.fresh || before?.resources != after.resources else { return }
            state.discovered[name] = after
            state.discoveryGeneration += 1
        }
    }

    /// Records where an aggregated server's OpenAPI v3 document of its group version is
    /// (nil: it has none, or the probe failed).
    func recordOpenAPI(_ name: String, path: String?) {
        state.withLock { $0.openAPIPaths[name] = path }
    }

    /// The OpenAPI v3 root's entries of the aggregated group versions whose servers have
    /// one: `apis/GROUP/VERSION` and the server-relative URL (with the server's hash).
    var openAPIPaths: [String: String] {
        let services = services.filter { isRemote($0) && $0.available }
        return state.withLock { state in
            var paths: [String: String] = [:]
            for service in services {
                if let path = state.openAPIPaths[service.name] { paths[String(service.discoveryPath.dropFirst())] = path }
            }
            return paths
        }
    }

    /// Forgets the discovery of APIServices that no longer exist.
    func forgetDiscovery(except names: Set<String>) {
        state.withLock { state in
            for name in state.openAPIPaths.keys where !names.contains(name) { state.openAPIPaths[name] = nil }
            let gone = state.discovered.keys.filter { !names.contains($0) }
            guard !gone.isEmpty else { return }
            for name in gone { state.discovered[name] = nil }
            state.discoveryGeneration += 1
        }
    }

    /// Whether a resource name (`plural`, or `plural/subresource`) is in the group version's
    /// last discovery document: request metrics name only those.
    func lists(_ resource: String, in service: AggregatedAPIService) -> Bool {
        state.withLock { $0.discovered[service.name]?.names.contains(resource) ?? false }
    }

    /// Counts an APIService becoming unavailable for `reason`.
    func recordUnavailable(_ name: String, reason: String) {
        state.withLock { $0.unavailableTransitions["name=\"\(name)\",reason=\"\(reason)\"", default: 0] += 1 }
    }

    /// kube-aggregator's gauge of unavailable APIServices and counter of their becoming
    /// unavailable, in the Prometheus text format.
    func renderMetrics() -> String {
        var out = "# HELP aggregator_unavailable_apiservice Whether an APIService is unavailable (1) or available (0).\n"
            + "# TYPE aggregator_unavailable_apiservice gauge\n"
        for service in services {
            out += "aggregator_unavailable_apiservice{name=\"\(service.name)\"} \(service.available ? 0 : 1)\n"
        }
        out += "# HELP aggregator_unavailable_apiservice_total Times an APIService became unavailable, by reason.\n"
            + "# TYPE aggregator_unavailable_apiservice_total counter\n"
        let transitions = state.withLock { $0.unavailableTransitions }
        for labels in transitions.keys.sorted() { out += "aggregator_unavailable_apiservice_total{\(labels)} \(transitions[labels] ?? 0)\n" }
        return out
    }

    private func parsed<T>(_ read: (State) -> T) -> T {
        let snapshot = objects.snapshot
        return state.withLock { state in
            if state.parsedGeneration != snapshot.generation {
                let services = snapshot.objects.values.compactMap(AggregatedAPIService.init).sorted { $0.name < $1.name }
                state.services = services
                state.byGroupVersion = Dictionary(services.map { ($0.group + "/" + $0.version, $0) }) { first, _ in first }
                state.parsedGeneration = snapshot.generation
            }
            return read(state)
        }
    }
}

/// A group version an aggregated API server serves, and the resources its discovery
/// document listed (nil before the first successful fetch).
struct RemoteGroupVersion: Sendable {
    var service: AggregatedAPIService
    var resources: [JSON]?
    var fresh: Bool
}
