/// API aggregation as the Kubernetes API serves it: which APIServices there are (for
/// routing and discovery) and the proxy to aggregated API servers.
public struct Aggregator: Sendable {
    let registry: APIServiceRegistry
    let proxy: AggregatorProxy

    /// The APIService an aggregated API server serves `path` for: `/apis/GROUP/VERSION` and
    /// everything under it, when an APIService with a Service names the group version and
    /// this server does not serve it itself.
    func target(of path: String) -> AggregatedAPIService? {
        guard path.hasPrefix("/apis/") else { return nil }
        let parts = path.split(separator: "/", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count >= 4, !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        return registry.remote(group: String(parts[2]), version: String(parts[3]))
    }

    /// The APIService whose server has the OpenAPI v3 document at `path`
    /// (`/openapi/v3/apis/GROUP/VERSION`), when it is an aggregated group version.
    func openAPITarget(of path: String) -> AggregatedAPIService? {
        let prefix = "/openapi/v3"
        guard path.hasPrefix(prefix + "/apis/") else { return nil }
        guard let service = target(of: String(path.dropFirst(prefix.count))),
              path == prefix + service.discoveryPath else { return nil }
        return service
    }
}
