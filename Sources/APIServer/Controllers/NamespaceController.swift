import KineLayer
import Logging

/// Finishes the deletion of Terminating namespaces, as kube-controller-manager's namespace
/// controller does: deletes every namespaced object in the namespace, reports progress in the
/// namespace's conditions, then drops the `kubernetes` finalizer and removes the namespace
/// once no finalizer is left. Works from a namespace watch (one pass at start).
public struct NamespaceController: Sendable {
    let store: ObjectStore
    let catalog: ResourceCatalog
    let logger: Logger

    public init(store: ObjectStore, catalog: ResourceCatalog, logger: Logger) {
        self.store = store
        self.catalog = catalog
        self.logger = logger
    }

    static let prefix = RegistryKey.resourcePrefix(group: "", resource: "namespaces")

    public func run() async {
        while !Task.isCancelled {
            do {
                let revision = try await store.currentRevision()
                var start: String? = nil
                while true {
                    let page = try await store.list(prefix: Self.prefix, startKey: start, revision: revision, limit: 500)
                    for entry in page.entries { try await finalize(String(entry.key.dropFirst(Self.prefix.count))) }
                    guard page.more, let last = page.entries.last else { break }
                    start = last.key + "\u{0}"
                }
                let watch = try await store.kine.watch(.prefix(Array(Self.prefix.utf8)), startRevision: revision + 1)
                defer { store.kine.cancelWatch(watch.id) }
                for try await message in watch.stream {
                    guard case .events(let events) = message else { continue }
                    for event in events where event.kind == .put {
                        try await finalize(String(event.kv.keyString.dropFirst(Self.prefix.count)))
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("namespace controller: \(error); starting again")
                try? await Task.sleep(for: .seconds(1))
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
            let prefix = RegistryKey.namespacePrefix(group: resource.group, resource: resource.plural, namespace: name)
            guard seen.insert(prefix).inserted else { continue }
            var start: String? = nil
            while true {
                let page = try await store.list(prefix: prefix, startKey: start, revision: 0, limit: 500)
                for entry in page.entries {
                    switch try await store.delete(entry.key, expectedRevision: entry.modRevision) {
                    case .written, .missing: break
                    case .conflict:
                        remaining += 1
                        failures.append(resource.plural)
                    }
                }
                guard page.more, let last = page.entries.last else { break }
                start = last.key + "\u{0}"
            }
        }
        guard let current = try await store.get(key) else { return }
        var object = current.object
        if remaining > 0 {
            object[path: ["status", "conditions"]] = [[
                "type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                "message": .string("Some resources are remaining: \(Set(failures).sorted().joined(separator: ", "))"),
                "lastTransitionTime": .string(ResourceEngine.now()),
            ]]
            _ = try await store.update(key, object, expectedRevision: current.modRevision)
            return
        }
        let finalizers = (object[path: ["spec", "finalizers"]]?.arrayValue ?? []).filter { $0 != "kubernetes" }
        let metadataFinalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if finalizers.isEmpty && metadataFinalizers.isEmpty {
            _ = try await store.delete(key, expectedRevision: current.modRevision)
            logger.info("namespace \(name) deleted")
        } else {
            object[path: ["spec", "finalizers"]] = .array(finalizers)
            object[path: ["status", "conditions"]] = [[
                "type": "NamespaceContentRemaining", "status": "False", "reason": "ContentDeleted",
                "message": "All content successfully removed", "lastTransitionTime": .string(ResourceEngine.now()),
            ]]
            if object != current.object { _ = try await store.update(key, object, expectedRevision: current.modRevision) }
        }
    }
}
