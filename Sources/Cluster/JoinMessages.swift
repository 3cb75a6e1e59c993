/// What a node that wants to join sends (one JSON line) to a member's cluster port.
public struct JoinRequest: Codable, Sendable {
    /// The token printed by `skiff cluster token`.
    public var token: String
    /// The joining node's dqlite ID.
    public var id: UInt64
    /// The joining node's cluster address ("IP:PORT").
    public var address: String
}

/// The member's answer (one JSON line): the cluster's shared files, or why not.
public struct JoinResponse: Codable, Sendable {
    /// Why the join was refused; `nil` when accepted.
    public var error: String?
    /// Files for the joiner's data directory, by path relative to it, as text (PEM).
    public var files: [String: String] = [:]
    /// The members' cluster addresses.
    public var members: [String] = []
}
