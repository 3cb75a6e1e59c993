/// What an admission plugin is told about a write.
public struct AdmissionRequest: Sendable {
    public enum Operation: String, Sendable {
        case create = "CREATE"
        case update = "UPDATE"
        case delete = "DELETE"
    }

    public var operation: Operation
    public var resource: ResourceDescriptor
    /// The subresource written ("" for the object itself).
    public var subresource: String
    /// The object's namespace ("" when cluster-scoped) and name.
    public var namespace: String
    public var name: String
    public var user: UserInfo
    /// The stored object an update replaces.
    public var old: JSON?
    public var dryRun: Bool
    /// The request's options (CreateOptions, UpdateOptions or DeleteOptions, as the
    /// AdmissionReview's `options` carries them); nil: the defaults.
    public var options: JSON? = nil

    /// Whether the write is to the core resource `plural` itself (not a subresource).
    func isCore(_ plural: String) -> Bool {
        resource.group.isEmpty && resource.plural == plural && subresource.isEmpty
    }
}

/// A write to another object that must commit in the same transaction as the admitted create
/// (quota usage; updates carry none): `object` replaces the one at `key` if it is still at `expectedRevision`.
public struct ConditionalWrite: Sendable {
    public var key: String
    public var object: JSON
    public var expectedRevision: Int64
}
