import Logging
import Synchronization

/// Finishes the deletion of Terminating namespaces, as kube-controller-manager's namespace
/// controller does: deletes every namespaced object in the namespace, reports progress in the
/// namespace's conditions, then drops the `kubernetes` finalizer and removes the namespace
/// once no finalizer is left. Works from a namespace watch (one pass at start).
public final class NamespaceController: Sendable {
    let store: any ObjectStore
    let catalog: ResourceCatalog
    let logger: Logger
    /// Terminating namespaces whose content still has finalizers.
    private let waiting = Mutex(Set<String>())
    let recheckInterval: Duration = .seconds(2)

    public init(store: any ObjectStore, catalog: ResourceCatalog, logger: Logger) {
        self.store = store
        self.catalog = catalog
        self.logger = logger
    }

    static let prefix = RegistryKey.resourcePrefix(group: "", resource: "namespaces")

    public func run() async {
        await ControllerLoop.run("namespace controller", logger: logger) {
            let revision = try await store.currentRevision()
            try await store.forEach(prefix: Self.prefix, revision: revision) { entry in
                try await finalize(String(entry.key.dropFirst(Self.prefix.count)))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.store.watchChanges(prefix: Self.prefix, after: revision) { events in
                        for event in events where event.kind == .put {
                            try await self.finalize(String(event.key.dropFirst(Self.prefix.count)))
                        }
                    }
                }
                // Namespaces waiting for finalizers of their content are looked at again.
                group.addTask {
                    while true {
                        try await Task.sleep(for: self.recheckInterval)
                        for name in self.waiting.withLock({ Array($0) }) { try await self.finalize(name) }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Empties and removes a namespace that is being deleted; does nothing to others.
    func finalize(_ name: String) async throws {
        let key = RegistryKey(group: "", resource: "namespaces", namespace: nil, name: name).path
        guard let namespace = try await store.get(key), namespace.object[path: ["metadata", "deletionTimestamp"]] != nil else { return }
        var remaining = 0
        var failures: [String] = []
        // The stored namespaced resources, each once (a resource served in two versions
        // shares its keys).
        var seen = Set<String>()
        for resource in catalog.resources where resource.namespaced && resource.isStored {
            let prefix = resource.namespacePrefix(name)
            guard seen.insert(prefix).inserted else { continue }
            try await store.forEach(prefix: prefix) { entry in
                let object = try entry.decoded()
                if !(object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
                    // Held by finalizers: marked for deletion, removed when released.
                    remaining += 1
                    failures.append(resource.plural)
                    _ = try await ObjectDeleter(store: store).markForDeletion(
                        StoredObject(object: object, modRevision: entry.modRevision, key: entry.key), adding: nil)
                    return
                }
                switch try await store.delete(entry.key, expectedRevision: entry.modRevision) {
                case .written, .missing: break
                case .conflict:
                    remaining += 1
                    failures.append(resource.plural)
                }
            }
        }
        guard let current = try await store.get(key) else {
            waiting.withLock { _ = $0.remove(name) }
            return
        }
        waiting.withLock { if remaining > 0 { $0.insert(name) } else { $0.remove(name) } }
        var object = current.object
        if remaining > 0 {
            let message = "Some resources are remaining: \(Set(failures).sorted().joined(separator: ", ")) (held by finalizers)"
            // Written only when it says something new, so that the write's own watch event
            // does not start another round.
            if object[path: ["status", "conditions"]]?.arrayValue?.first?["message"]?.stringValue != message {
                object[path: ["status", "conditions"]] = [[
                    "type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                    "message": .string(message), "lastTransitionTime": .string(ResourceEngine.now()),
                ]]
                _ = try await store.update(key, object, expectedRevision: current.modRevision)
            }
            return
        }
        let finalizers = (object[path: ["spec", "finalizers"]]?.arrayValue ?? []).filter { $0 != "kubernetes" }
        let metadataFinalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if finalizers.isEmpty && metadataFinalizers.isEmpty {
            _ = try await store.delete(key, expectedRevision: current.modRevision)
            logger.info("namespace \(name) deleted")
        } else {
            object[path: ["spec", "finalizers"]] = .array(finalizers)
            if object[path: ["status", "conditions"]]?.arrayValue?.first?["reason"]?.stringValue != "ContentDeleted" {
                object[path: ["status", "conditions"]] = [[
                    "type": "NamespaceContentRemaining", "status": "False", "reason": "ContentDeleted",
                    "message": "All content successfully removed", "lastTransitionTime": .string(ResourceEngine.now()),
                ]]
            }
            if object != current.object { _ = try await store.update(key, object, expectedRevision: current.modRevision) }
        }
    }
}
