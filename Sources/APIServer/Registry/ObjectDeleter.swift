/// The engine's deletion step on stored objects: marking an object as being deleted (with a
/// finalizer that holds it). The control loops delete through the API (``LoopbackClient``).
enum ObjectDeleter {
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
}
