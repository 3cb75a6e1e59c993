import Foundation
import Logging
import Synchronization

/// Keeps CustomResourceDefinitions' status (kube-apiserver's naming and establishing loops):
/// `NamesAccepted` unless another definition already took the plural or kind in the group,
/// then `Established`; `acceptedNames` and `storedVersions`. A definition being deleted is
/// `Terminating` while its objects are deleted; then its cleanup finalizer goes, and it with it.
public final class CustomResourceDefinitionController: Sendable {
    static let prefix = CustomResourceRegistry.prefix
    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:crd-controller`.
    let client: LoopbackClient
    let logger: Logger
    /// Whether the last pass saw a definition being deleted (only then is it looked at again
    /// on a timer, for objects its finalizers still hold).
    private let terminating = Mutex(false)

    public init(store: any ObjectStore, client: LoopbackClient, logger: Logger) {
        self.store = store
        self.client = client
        self.logger = logger
    }

    public func run() async {
        await ControllerLoop.run("custom resource definition controller", logger: logger) { [self] in
            let revision = try await store.currentRevision()
            try await syncAll()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [self] in try await store.watchChanges(prefix: Self.prefix, after: revision) { _ in try await self.syncAll() } }
                // Objects of a definition being deleted may be held by finalizers: look again now and then.
                group.addTask { [self] in
                    while true {
                        try await Task.sleep(for: .seconds(1))
                        if terminating.withLock({ $0 }) { try await syncAll(onlyTerminating: true) }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    func syncAll(onlyTerminating: Bool = false) async throws {
        var crds: [StoredEntry] = []
        try await store.forEach(prefix: Self.prefix) { crds.append($0) }
        let objects = try crds.map { try $0.decoded() }
        terminating.withLock { $0 = objects.contains { $0[path: ["metadata", "deletionTimestamp"]] != nil } }
        for (index, entry) in crds.enumerated() {
            let crd = objects[index]
            let terminating = crd[path: ["metadata", "deletionTimestamp"]] != nil
            if onlyTerminating && !terminating { continue }
            let earlier = objects[..<index].filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
            try await sync(entry.key, crd, revision: entry.modRevision, earlier: Array(earlier))
        }
    }

    private func sync(_ key: String, _ crd: JSON, revision: Int64, earlier: [JSON]) async throws {
        var updated = crd
        let spec = crd["spec"] ?? .emptyObject
        let group = spec["group"]?.stringValue ?? ""
        let names = spec["names"] ?? .emptyObject
        // Names another definition of the group took first (by creation) are refused.
        let clash = earlier.first { other in
            other[path: ["spec", "group"]]?.stringValue == group
                && (other[path: ["spec", "names", "plural"]] == names["plural"] || other[path: ["spec", "names", "kind"]] == names["kind"])
        }
        // Conditions of other types (written through the status subresource) are kept.
        var conditions = crd[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String, _ status: Bool, _ reason: String, _ message: String) {
            let index = conditions.firstIndex { $0["type"]?.stringValue == type }
            let previous = index.map { conditions[$0] }
            let text = status ? "True" : "False"
            let since = previous?["status"]?.stringValue == text ? previous?["lastTransitionTime"] : nil
            let updated: JSON = ["type": .string(type), "status": .string(text), "reason": .string(reason), "message": .string(message),
                                 "lastTransitionTime": since ?? .string(RFC3339.string(Date()))]
            if let index { conditions[index] = updated } else { conditions.append(updated) }
        }
        if let clash {
            let other = clash[path: ["metadata", "name"]]?.stringValue ?? ""
            condition("NamesAccepted", false, "NameConflict", "\"\(names["plural"]?.stringValue ?? "")\" is already in use by \(other)")
            condition("Established", false, "NotAccepted", "not all names are accepted")
        } else {
            condition("NamesAccepted", true, "NoConflicts", "no conflicts found")
            condition("Established", true, "InitialNamesAccepted", "the initial names have been accepted")
            updated[path: ["status", "acceptedNames"]] = names
        }
        let terminating = crd[path: ["metadata", "deletionTimestamp"]] != nil
        if terminating { condition("Terminating", true, "InstanceDeletionInProgress", "CustomResource deletion is in progress") }
        updated[path: ["status", "conditions"]] = .array(conditions)
        var stored = (crd[path: ["status", "storedVersions"]]?.arrayValue ?? []).compactMap(\.stringValue)
        if let storage = (spec["versions"]?.arrayValue ?? []).first(where: { $0["storage"]?.boolValue == true })?["name"]?.stringValue,
           !stored.contains(storage) {
            stored.append(storage)
        }
        updated[path: ["status", "storedVersions"]] = .array(stored.map { .string($0) })
        var revision = revision
        if !ResourceEngine.sameContent(updated, crd) {
            // A conflict: the change that came first has an event of its own, which syncs again.
            guard case .written(let written) = try await client.update(key, updated, expectedRevision: revision, subresource: "status") else { return }
            revision = written.modRevision
        }
        if terminating, let plural = spec[path: ["names", "plural"]]?.stringValue, !group.isEmpty {
            try await cleanUp(key, group: group, plural: plural)
        }
    }

    /// Deletes the definition's objects (those with finalizers are marked and waited for);
    /// once none is left the cleanup finalizer is released.
    private func cleanUp(_ key: String, group: String, plural: String) async throws {
        var objects: [(key: String, uid: String?, deleting: Bool)] = []
        try await store.forEach(prefix: RegistryKey.resourcePrefix(group: group, resource: plural)) { entry in
            let object = try entry.decoded()
            objects.append((entry.key, object[path: ["metadata", "uid"]]?.stringValue, object[path: ["metadata", "deletionTimestamp"]] != nil))
        }
        let remaining = objects.count
        for object in objects where !object.deleting { try await client.delete(object.key, uid: object.uid) }
        if remaining > 0 {
            var left = 0
            try await store.forEach(prefix: RegistryKey.resourcePrefix(group: group, resource: plural)) { _ in left += 1 }
            if left > 0 { return }
        }
        try await client.guaranteedUpdate(key, in: store) { crd in
            var object = crd.object
            let finalizers = (object[path: ["metadata", "finalizers"]]?.arrayValue ?? [])
                .filter { $0 != .string(CustomResourceDefinitionStrategy.cleanupFinalizer) }
            object[path: ["metadata", "finalizers"]] = finalizers.isEmpty ? nil : .array(finalizers)
            return object
        }
    }
}
