/// Deletion steps on stored objects that the garbage collector and the engine share:
/// marking an object as being deleted (with a finalizer that holds it), releasing a
/// finalizer (the object goes with the last one), and dropping owner references.
struct ObjectDeleter: Sendable {
    let store: ObjectStore

    /// Sets `deletionTimestamp` (if not set) and adds `finalizer`; returns the stored object,
    /// or `nil` if it changed or went meanwhile.
    func markForDeletion(_ current: StoredObject, adding finalizer: String?) async throws -> StoredObject? {
        var object = current.object
        var finalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if let finalizer, !finalizers.contains(.string(finalizer)) { finalizers.append(.string(finalizer)) }
        object[path: ["metadata", "finalizers"]] = .array(finalizers)
        if object[path: ["metadata", "deletionTimestamp"]] == nil {
            object[path: ["metadata", "deletionTimestamp"]] = .string(ResourceEngine.now())
            object[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
        }
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
