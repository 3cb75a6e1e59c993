/// Where a node keeps its cluster state inside the data directory (`DATA_DIR/cluster`).
public struct ClusterPaths: Sendable {
    /// The data directory (shared with the API server or etcd endpoint of this node).
    public let dataDirectory: String

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    public var directory: String { dataDirectory + "/cluster" }
    /// The Raft log and snapshots of the dqlite node.
    public var nodeDirectory: String { directory + "/dqlite" }
    public var caCertificate: String { directory + "/ca.crt" }
    public var caKey: String { directory + "/ca.key" }
    public var nodeCertificate: String { directory + "/node.crt" }
    public var nodeKey: String { directory + "/node.key" }
    public var token: String { directory + "/token" }
    public var identity: String { directory + "/node.json" }
    public var members: String { directory + "/members.json" }
    /// Held by the node process while it runs, so that two never share a directory.
    public var nodeLock: String { directory + "/node.lock" }

    /// Files (relative to the data directory) a member hands to a joining node besides the
    /// cluster CA, so that every node serves the same API identity, accepts the same
    /// service account tokens, and proxies to aggregated API servers as one front proxy.
    public static let sharedFiles = ["pki/ca.crt", "pki/ca.key", "pki/sa.key", "pki/front-proxy-ca.crt", "pki/front-proxy-ca.key"]
}
