import Logging

/// The objects a service account token may name, followed in memory (uids by key): the
/// service accounts, and the pods, secrets and nodes a token may be bound to. A token is
/// checked against these instead of reading the store on every request; they are watched,
/// so a deletion ends the token's use within the watch's delay.
public final class TokenObjects: Sendable {
    let serviceAccounts: WatchedUIDs
    let pods: WatchedUIDs
    let secrets: WatchedUIDs
    let nodes: WatchedUIDs

    public init(store: any ObjectStore, logger: Logger) {
        func follow(_ resource: String) -> WatchedUIDs {
            WatchedUIDs(prefix: RegistryKey.resourcePrefix(group: "", resource: resource), store: store, logger: logger)
        }
        serviceAccounts = follow("serviceaccounts")
        pods = follow("pods")
        secrets = follow("secrets")
        nodes = follow("nodes")
    }

    private var all: [WatchedUIDs] { [serviceAccounts, pods, secrets, nodes] }

    /// Reads them all; call before serving.
    public func load() async throws {
        for objects in all { try await objects.load() }
    }

    /// Follows them until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for objects in all { group.addTask { await objects.run() } }
        }
    }

    /// Whether the object a token is bound to (a `Pod` or `Secret` in the token's namespace,
    /// or a `Node`) exists with `uid`; `nil` for another kind. Throws as
    /// ``WatchedUIDs/contains(_:uid:limit:)``.
    func boundObjectExists(kind: String, namespace: String, name: String, uid: String) async throws -> Bool? {
        let (index, resource, scope): (WatchedUIDs, String, String?)
        switch kind {
        case "Pod": (index, resource, scope) = (pods, "pods", namespace)
        case "Secret": (index, resource, scope) = (secrets, "secrets", namespace)
        case "Node": (index, resource, scope) = (nodes, "nodes", nil)
        default: return nil
        }
        return try await index.contains(RegistryKey(group: "", resource: resource, namespace: scope, name: name).path, uid: uid)
    }
}
