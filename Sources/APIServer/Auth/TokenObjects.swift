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

    /// The index of objects of a kind a token may be bound to (`Pod`, `Secret`, `Node`).
    func bound(_ kind: String) -> WatchedUIDs? {
        switch kind {
        case "Pod": pods
        case "Secret": secrets
        case "Node": nodes
        default: nil
        }
    }
}
