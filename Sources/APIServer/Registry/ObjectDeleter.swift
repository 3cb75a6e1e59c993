/// Deletion steps on stored objects that the garbage collector and the engine share:
/// marking an object as being deleted (with a finalizer that holds it), releasing a
/// finalizer (the object goes with the last one), and dropping owner references.
struct ObjectDeleter: Sendable {
    let store: any ObjectStore

    /// `object` marked as being deleted: `deletionTimestamp` (if not set yet) with
    /// `deletionGracePeriodSeconds`, `finalizer` added, and for objects with a spec a new
    /// generation (as kube-apiserver counts a deletion as a spec change).
    static func marked(_ object: JSON, adding finalizer: String?, gracePeriod: Int64 = 0, bumpsGeneration: Bool = false) -> JSON {
        var object = object
        var finalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if let finalizer, !finalizers.contains(.string(finalizer)) { finalizers.append(.string(finalizer)) }
        if !finalizers.isEmpty { object[path: ["metadata", "finalizers"]] = .array(finalizers) }
        guard object[path: ["metadata", "deletionTimestamp"]] == nil else { return object }
        object[path: ["metadata", "deletionTimestamp"]] = .string(ResourceEngine.now())
        object[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(gracePeriod)
        if bumpsGeneration {
            object[path: ["metadata", "generation"]] = .int((object[path: ["metadata", "generation"]]?.intValue ?? 0) + 1)
        }
        return object
    }

    /// Marks a stored object as being deleted (see ``marked(_:adding:gracePeriod:bumpsGeneration:)``);
    /// returns the stored object, or `nil` if it changed or went meanwhile.
    func markForDeletion(_ current: StoredObject, adding finalizer: String?) async throws -> StoredObject? {
        let object = Self.marked(current.object, adding: finalizer)
        if object == current.object { return current }
        if case .written(let stored) = try await store.update(current.key, object, expectedRevision: current.modRevision) { return stored }
        return nil
    }

    /// Deletes an object as a Background or (with `finalizer`) Foreground/Orphan delete
    /// would: at once if nothing holds it, else marked. Returns whether it changed anything.
    @discardableResult
    func delete(_ current: StoredObject, finalizer: String?) async throws -> Bool {
        if current.object[path: ["metadata", "deletionTimestamp"]] != nil { return false }
        let held = !(current.object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty
        if held || finalizer != nil { return try await markForDeletion(current, adding: finalizer) != nil }
        if case .written = try await store.delete(current.key, expectedRevision: current.modRevision) { return true }
        return false
    }

    /// Removes `finalizer`; an object being deleted goes with its last finalizer.
    func release(_ current: StoredObject, finalizer: String) async throws {
        var object = current.object
        let finalizers = (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).filter { $0 != .string(finalizer) }
        if finalizers.isEmpty && object[path: ["metadata", "deletionTimestamp"]] != nil {
            _ = try await store.delete(current.key, expectedRevision: current.modRevision)
            return
        }
        object[path: ["metadata", "finalizers"]] = finalizers.isEmpty ? nil : .array(finalizers)
        if object != current.object { _ = try await store.update(current.key, object, expectedRevision: current.modRevision) }
    }

    /// Drops the owner references to the owners with `uids`.
    func dropOwnerReferences(_ current: StoredObject, uids: Set<String>) async throws {
        var object = current.object
        let references = (object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter {
            !uids.contains($0["uid"]?.stringValue ?? "")
        }
        object[path: ["metadata", "ownerReferences"]] = references.isEmpty ? nil : .array(references)
        if object != current.object { _ = try await store.update(current.key, object, expectedRevision: current.modRevision) }
    }
}
