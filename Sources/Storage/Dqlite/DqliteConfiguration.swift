import NIOSSL

/// How a ``DqliteDatabase`` reaches its cluster.
public struct DqliteConfiguration: Sendable {
    /// Addresses ("IP:PORT") of cluster members to ask for the leader; the list is
    /// refreshed from the cluster's own member list as the client learns it.
    public var addresses: [String]
    /// The replicated database's name.
    public var database = "skiff"
    /// TLS (with this node's client certificate) for connections to members; `nil` dials plain TCP.
    public var tls: NIOSSLContext?
    /// How long one request may go unanswered before its connection is dropped.
    public var requestTimeout: Duration = .seconds(5)
    /// How long a read or write keeps looking for a leader (through elections and
    /// failovers) before it fails with ``StorageError/unavailable(_:)``.
    public var failoverDeadline: Duration = .seconds(30)
    /// Connections used for reads.
    public var readerCount = 4
    /// The largest database ``DqliteDatabase/reclaimSpace()`` rewrites with VACUUM (one Raft
    /// entry of the database's size); a larger one keeps its free pages for reuse.
    public var maxVacuumBytes: Int64 = 16 << 20
    /// Failures of the wire made on purpose (tests of ambiguous commits); nil in service.
    public var faults: (any DqliteFaultPlan)? = nil

    public init(addresses: [String], tls: NIOSSLContext? = nil) {
        self.addresses = addresses
        self.tls = tls
    }
}
