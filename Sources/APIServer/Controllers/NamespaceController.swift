import Logging
import Synchronization

/// Finishes the deletion of Terminating namespaces, as kube-controller-manager's namespace
/// controller does: deletes every namespaced object in the namespace, reports progress in the
/// namespace's conditions, then drops the `kubernetes` finalizer and removes the namespace
/// once no finalizer is left. Works from a namespace watch (one pass at start). Aggregated
/// API servers' namespaced resources are deleted too, through the API (a delete collection
/// each); while one cannot be emptied (its server unavailable), the namespace stays.
public final class NamespaceController: Sendable {
    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:namespace-controller`.
    let client: LoopbackClient
    let catalog: ResourceCatalog
    /// The aggregated API servers' resources (none when nil).
    let aggregated: APIServiceRegistry?
    let logger: Logger
    /// Terminating namespaces whose content still has finalizers.
    private let waiting = Mutex(Set<String>())
    let recheckInterval: Duration = .seconds(2)

    public init(store: any ObjectStore, client: LoopbackClient, catalog: ResourceCatalog, aggregated: APIServiceRegistry? = nil,
                logger: Logger) {
        self.store = store
        self.client = client
        self.catalog = catalog
        self.aggregated = aggregated
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
            // Deleted as a DELETE request would (Services give back their addresses, finalizers
            // hold what they hold), one object at a time.
            var keys: [String] = []
            try await store.forEach(prefix: prefix) { keys.append($0.key) }
            for entryKey in keys {
                switch try await client.delete(entryKey) {
                case .deleted, .missing: break
                case .pending:
                    // Held by finalizers: marked for deletion, removed when released.
                    remaining += 1
                    failures.append(resource.plural)
                case .conflict:
                    remaining += 1
                    failures.append(resource.plural)
                }
            }
        }
        let unremoved = try await emptyAggregated(name)
        remaining += unremoved.count
        guard let current = try await store.get(key) else {
            waiting.withLock { _ = $0.remove(name) }
            return
        }
        waiting.withLock { if remaining > 0 { $0.insert(name) } else { $0.remove(name) } }
        var object = current.object
        if remaining > 0 {
            var parts: [String] = []
            if !failures.isEmpty { parts.append("\(Set(failures).sorted().joined(separator: ", ")) (held by finalizers)") }
            if !unremoved.isEmpty { parts.append("\(unremoved.sorted().joined(separator: ", ")) (not removed by their aggregated API servers)") }
            let message = "Some resources are remaining: " + parts.joined(separator: "; ")
            // Written only when it says something new, so that the write's own watch event
            // does not start another round.
            if object[path: ["status", "conditions"]]?.arrayValue?.first?["message"]?.stringValue != message {
                object[path: ["status", "conditions"]] = [[
                    "type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                    "message": .string(message), "lastTransitionTime": .string(ResourceEngine.now()),
                ]]
                if case .conflict = try await client.update(key, object, expectedRevision: current.modRevision, subresource: "status") {
                    waiting.withLock { _ = $0.insert(name) }  // looked at again shortly
                }
            }
            return
        }
        // Content gone: the conditions say so, then the `kubernetes` finalizer is dropped
        // through the finalize subresource; the namespace goes with its last finalizer.
        if object[path: ["status", "conditions"]]?.arrayValue?.first?["reason"]?.stringValue != "ContentDeleted" {
            object[path: ["status", "conditions"]] = [[
                "type": "NamespaceContentRemaining", "status": "False", "reason": "ContentDeleted",
                "message": "All content successfully removed", "lastTransitionTime": .string(ResourceEngine.now()),
            ]]
            guard case .written(let written) = try await client.update(key, object, expectedRevision: current.modRevision,
                                                                         subresource: "status") else {
                waiting.withLock { _ = $0.insert(name) }
                return
            }
            object = written.object
        }
        let finalizers = (object[path: ["spec", "finalizers"]]?.arrayValue ?? []).filter { $0 != "kubernetes" }
        if finalizers.count != (object[path: ["spec", "finalizers"]]?.arrayValue ?? []).count {
            object[path: ["spec", "finalizers"]] = .array(finalizers)
            let revision = object[path: ["metadata", "resourceVersion"]]?.stringValue.flatMap { Int64($0) } ?? current.modRevision
            if case .conflict = try await client.update(key, object, expectedRevision: revision, subresource: "finalize") {
                waiting.withLock { _ = $0.insert(name) }
                return
            }
        }
        // Without finalizers the update above removed it; a namespace that had none left
        // already is deleted again, which removes it.
        if let left = try await store.get(key), (left.object[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty,
           (left.object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
            try await client.delete(key, uid: left.object[path: ["metadata", "uid"]]?.stringValue)
        }
        if try await store.get(key) == nil { logger.info("namespace \(name) deleted") }
    }

    /// Deletes the namespace's objects of every aggregated API server's namespaced resource
    /// that can be deleted as a collection, through the API (so through the proxy); answers
    /// the resources (`PLURAL.GROUP`) that still have objects or could not be asked.
    private func emptyAggregated(_ namespace: String) async throws -> [String] {
        guard let aggregated else { return [] }
        var unremoved: [String] = []
        for entry in aggregated.remoteGroupVersions {
            for resource in entry.resources ?? [] {
                // The name comes from another server: only a DNS label makes a path here.
                guard let plural = resource["name"]?.stringValue, NameValidation.labelErrors(plural).isEmpty,
                      resource["namespaced"]?.boolValue == true,
                      resource["verbs"]?.arrayValue?.contains("deletecollection") == true else { continue }
                let what = plural + "." + entry.service.group
                let path = "/apis/\(entry.service.group)/\(entry.service.version)/namespaces/\(namespace)/\(plural)"
                guard entry.service.available else {
                    unremoved.append(what)
                    continue
                }
                let deleted = try await client.request(.DELETE, path: path)
                if deleted.status == 404 || deleted.status == 405 { continue }
                guard (200..<300).contains(deleted.status) else {
                    unremoved.append(what)
                    continue
                }
                let left = try await client.request(.GET, path: path + "?limit=1")
                if left.status != 200 || left.body["items"]?.arrayValue?.isEmpty == false { unremoved.append(what) }
            }
        }
        return unremoved
    }
}
