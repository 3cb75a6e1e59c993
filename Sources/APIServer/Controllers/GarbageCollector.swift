import Logging
import Synchronization

/// Deletes objects whose owners are gone, as kube-controller-manager's garbage collector
/// does, for every stored resource: a graph of owner references (uid → dependents) is built
/// from one full read at start and kept current from a watch of the whole registry.
///
/// - An object whose every owner is gone is deleted (Background propagation); references to
///   owners that are gone are dropped while another owner remains.
/// - An owner being deleted with the `orphan` finalizer (Orphan propagation) loses its
///   dependents: their references to it are dropped, then the finalizer.
/// - An owner being deleted with the `foregroundDeletion` finalizer (Foreground) has its
///   dependents deleted; it goes once no dependent with `blockOwnerDeletion` is left.
public final class GarbageCollector: Sendable {
    public static let foregroundFinalizer = "foregroundDeletion"
    public static let orphanFinalizer = "orphan"

    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:garbage-collector`.
    let client: LoopbackClient
    let catalog: ResourceCatalog
    let logger: Logger
    private let graph = Mutex(OwnerGraph())

    public init(store: any ObjectStore, client: LoopbackClient, catalog: ResourceCatalog, logger: Logger) {
        self.store = store
        self.client = client
        self.catalog = catalog
        self.logger = logger
    }

    static let prefix = "/registry/"

    public func run() async {
        await ControllerLoop.run("garbage collector", logger: logger) {
            let revision = try await store.currentRevision()
            graph.withLock { $0 = OwnerGraph() }
            try await store.forEach(prefix: Self.prefix, revision: revision) { entry in
                do {
                    let object = try entry.decoded()
                    graph.withLock { _ = $0.record(key: entry.key, object: object) }
                } catch {
                    logger.warning("an object that is not valid JSON is left out of the owner graph", metadata: ["key": "\(entry.key)", "error": "\(error)"])
                }
            }
            for uid in graph.withLock({ $0.needingAttention }) { try await attend(uid) }
            try await store.watchChanges(prefix: Self.prefix, after: revision) { events in
                for event in events { try await self.apply(event) }
            }
        }
    }

    private func apply(_ event: StoreEvent) async throws {
        let key = event.key
        switch event.kind {
        case .put:
            let stored: StoredObject
            do {
                stored = try StoredCodec.decode(event.entry)
            } catch {
                logger.warning("an object that is not valid JSON is left out of the owner graph", metadata: ["key": "\(key)", "error": "\(error)"])
                return
            }
            let uid = graph.withLock { $0.record(key: key, object: stored.object) }
            if let uid { try await attend(uid, as: stored) }
        case .delete:
            let (dependents, owners) = graph.withLock { $0.remove(key: key) }
            for uid in dependents + owners { try await attend(uid) }
        }
    }

    /// Looks at one object: finishes its Orphan or Foreground deletion, or deletes it (or
    /// drops dangling references) if its owners are gone.
    /// `known` is the object as an event just showed it (not read again).
    private func attend(_ uid: String, as known: StoredObject? = nil) async throws {
        guard let seen = graph.withLock({ $0.nodes[uid] }) else { return }
        let read = known == nil ? try await store.get(seen.key) : known
        guard let current = read, current.object[path: ["metadata", "uid"]]?.stringValue == uid else { return }
        // The graph may be behind what was read (a pass over it at start, while this loop's
        // own writes have not come back as events): it is judged by the object as it is.
        graph.withLock { _ = $0.record(key: current.key, object: current.object) }
        guard let node = graph.withLock({ $0.nodes[uid] }) else { return }
        let finalizers = Set((current.object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue))
        if current.object[path: ["metadata", "deletionTimestamp"]] != nil {
            if finalizers.contains(Self.orphanFinalizer) {
                for dependent in graph.withLock({ $0.dependents(of: uid) }) {
                    try await dropOwnerReferences(dependent.key, uid: dependent.uid, owners: [uid])
                }
                try await release(current.key, uid: uid, finalizer: Self.orphanFinalizer)
                return
            }
            if finalizers.contains(Self.foregroundFinalizer) {
                // Each dependent is settled by its own owners: deleted when none of them
                // stays, else it only loses its reference to this owner.
                var blocking = 0
                for dependent in graph.withLock({ $0.dependents(of: uid) }) {
                    guard let d = try await store.get(dependent.key),
                          d.object[path: ["metadata", "uid"]]?.stringValue == dependent.uid else { continue }
                    if try await settle(dependent, d) == .deleting, dependent.owners.contains(where: { $0.uid == uid && $0.blocks }) {
                        blocking += 1
                    }
                }
                if blocking == 0 { try await release(current.key, uid: uid, finalizer: Self.foregroundFinalizer) }
                return
            }
        }
        _ = try await settle(node, current)
    }

    private enum Settlement { case deleting, kept }

    /// Deletes an object whose owners are all gone or waiting for their dependents to go
    /// (Foreground when it has dependents of its own); while an owner stays, it only loses
    /// its references to the others.
    @discardableResult
    private func settle(_ node: OwnerGraph.Node, _ current: StoredObject) async throws -> Settlement {
        guard !node.owners.isEmpty else { return .kept }
        if current.object[path: ["metadata", "deletionTimestamp"]] != nil { return .deleting }
        var absent = Set<String>(), waiting = Set<String>(), present = 0
        for owner in node.owners {
            switch try await state(of: owner, dependentNamespace: node.namespace) {
            case .absent: absent.insert(owner.uid)
            case .deletingInForeground: waiting.insert(owner.uid)
            case .present: present += 1
            }
        }
        if present > 0 {
            if !absent.isEmpty || !waiting.isEmpty {
                try await dropOwnerReferences(current.key, uid: node.uid, owners: absent.union(waiting))
            }
            return .kept
        }
        logger.debug("deleting an object whose owners are gone", metadata: ["key": "\(node.key)"])
        let hasOwnDependents = !graph.withLock { $0.dependents(of: node.uid) }.isEmpty
        // As a DELETE request with the object's uid as precondition: a Service gives back its
        // addresses, finalizers hold the object, an object recreated meanwhile is left alone.
        let foreground = !waiting.isEmpty && hasOwnDependents
        try await client.delete(current.key, uid: node.uid, propagation: foreground ? "Foreground" : "Background")
        return .deleting
    }

    /// Removes `finalizer` from the object (if it is still the one with `uid`); an object
    /// being deleted goes with its last finalizer.
    private func release(_ key: String, uid: String, finalizer: String) async throws {
        try await client.guaranteedUpdate(key, in: store) { current in
            guard current.object[path: ["metadata", "uid"]]?.stringValue == uid else { return nil }
            var object = current.object
            let finalizers = (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).filter { $0 != .string(finalizer) }
            object[path: ["metadata", "finalizers"]] = finalizers.isEmpty ? nil : .array(finalizers)
            return object
        }
    }

    /// Drops the object's references to the owners with `owners` uids.
    private func dropOwnerReferences(_ key: String, uid: String, owners: Set<String>) async throws {
        try await client.guaranteedUpdate(key, in: store) { current in
            guard current.object[path: ["metadata", "uid"]]?.stringValue == uid else { return nil }
            var object = current.object
            let references = (object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter {
                !owners.contains($0["uid"]?.stringValue ?? "")
            }
            object[path: ["metadata", "ownerReferences"]] = references.isEmpty ? nil : .array(references)
            return object
        }
    }

    private enum OwnerState { case absent, deletingInForeground, present }

    /// Whether an owner exists, by uid: from the graph, confirmed by a read of its key (the
    /// watch may not have shown it yet). An owner of an unknown kind counts as present.
    private func state(of owner: OwnerGraph.Owner, dependentNamespace: String?) async throws -> OwnerState {
        let group = owner.apiVersion.contains("/") ? String(owner.apiVersion.split(separator: "/", omittingEmptySubsequences: false)[0]) : ""
        guard let resource = catalog.resources.first(where: { $0.group == group && $0.kind == owner.kind && $0.isStored }) else {
            return .present
        }
        if resource.namespaced && dependentNamespace == nil { return .present }
        let key = resource.key(namespace: resource.namespaced ? dependentNamespace : nil, name: owner.name)
        guard let stored = try await store.get(key), stored.object[path: ["metadata", "uid"]]?.stringValue == owner.uid else {
            return .absent
        }
        let finalizers = stored.object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if stored.object[path: ["metadata", "deletionTimestamp"]] != nil && finalizers.contains(.string(Self.foregroundFinalizer)) {
            return .deletingInForeground
        }
        return .present
    }
}

/// The owner references of every stored object, by uid, with the reverse index.
struct OwnerGraph {
    struct Owner: Hashable {
        var uid: String
        var apiVersion: String
        var kind: String
        var name: String
        var blocks: Bool
    }

    struct Node {
        var uid: String
        var key: String
        var namespace: String?
        var owners: [Owner]
        var attention: Bool
    }

    private(set) var nodes: [String: Node] = [:]
    private var uidByKey: [String: String] = [:]
    private var dependentUIDs: [String: Set<String>] = [:]

    /// Records an object; returns its uid when it needs looking at (it has owners, is
    /// being deleted, or had dependents waiting for it).
    @discardableResult
    mutating func record(key: String, object: JSON) -> String? {
        guard let uid = object[path: ["metadata", "uid"]]?.stringValue else { return nil }
        if let old = uidByKey[key], old != uid { _ = remove(key: key) }
        if let previous = nodes[uid] { for o in previous.owners { dependentUIDs[o.uid]?.remove(uid) } }
        let owners = (object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).compactMap { r -> Owner? in
            guard let ownerUID = r["uid"]?.stringValue else { return nil }
            return Owner(uid: ownerUID, apiVersion: r["apiVersion"]?.stringValue ?? "", kind: r["kind"]?.stringValue ?? "",
                         name: r["name"]?.stringValue ?? "", blocks: r["blockOwnerDeletion"]?.boolValue ?? false)
        }
        let deleting = object[path: ["metadata", "deletionTimestamp"]] != nil
        nodes[uid] = Node(uid: uid, key: key, namespace: object[path: ["metadata", "namespace"]]?.stringValue,
                          owners: owners, attention: !owners.isEmpty || deleting)
        uidByKey[key] = uid
        for o in owners { dependentUIDs[o.uid, default: []].insert(uid) }
        return nodes[uid]!.attention ? uid : nil
    }

    /// Forgets the object at `key`; returns its dependents and its owners (to look at again).
    mutating func remove(key: String) -> (dependents: [String], owners: [String]) {
        guard let uid = uidByKey.removeValue(forKey: key), let node = nodes.removeValue(forKey: uid) else { return ([], []) }
        for o in node.owners { dependentUIDs[o.uid]?.remove(uid) }
        let dependents = Array(dependentUIDs[uid] ?? [])
        return (dependents, node.owners.map(\.uid).filter { nodes[$0] != nil })
    }

    func dependents(of uid: String) -> [Node] {
        (dependentUIDs[uid] ?? []).compactMap { nodes[$0] }
    }

    /// Objects that have owners or are being deleted.
    var needingAttention: [String] { nodes.values.filter(\.attention).map(\.uid) }
}
