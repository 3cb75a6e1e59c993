import CDqlite

/// One dqlite node (libdqlite 1.11): Raft and the replicated SQLite engine, serving the
/// wire protocol on its bind address. Lives in the node process only: an assertion inside
/// the library aborts the process that hosts it.
final class DqliteNode: @unchecked Sendable {
    private var node: OpaquePointer?
    let id: UInt64
    /// The abstract socket the node listens on (reached through the TLS proxy).
    let bindName: String

    /// Creates the node with `address` as its cluster identity and `bindName` as the
    /// abstract socket it actually listens on; peers are dialled through `nodeConnectFunction`.
    init(id: UInt64, address: String, directory: String, bindName: String, latencyMilliseconds: UInt32) throws {
        self.id = id
        self.bindName = bindName
        var created: OpaquePointer?
        let rc = dqlite_node_create(dqlite_node_id(id), address, directory, &created)
        guard rc == 0, let created else {
            throw ClusterError.nodeFailed("cannot create node \(id) at \(address) in \(directory) (code \(rc))")
        }
        node = created
        try check(dqlite_node_set_bind_address(created, "@" + bindName), "set bind address @\(bindName)")
        try check(dqlite_node_set_connect_func(created, nodeConnectFunction, nil), "install connect function")
        try check(dqlite_node_set_network_latency_ms(created, latencyMilliseconds), "set network latency")
        try check(dqlite_node_set_snapshot_params(created, Self.snapshotThreshold, Self.snapshotTrailing), "set snapshot parameters")
    }

    /// Raft entries applied between two snapshots (dqlite's default: 1024). A snapshot
    /// writes the whole database (dqlite keeps it in memory), so it is not taken too often.
    static let snapshotThreshold: UInt32 = 256
    /// Raft entries kept in the log behind a snapshot, for members that are behind: one
    /// that missed more is sent the whole database instead, which for a database of
    /// hundreds of megabytes is slow and memory-hungry. Every entry is a commit's whole
    /// pages, so this is what bounds the log on disk and in the node's memory. dqlite's
    /// default of 8192 made 1.1 GB of log per member in 60 s of `etcdctl check perf`. With
    /// batches of at most 64 writes (about 0.7 MB), 1024 covered about 15 s of that load
    /// (512: 5-10 s; 2048: 30 s, but 684 MB of log per member and 1.2 GB of node memory).
    /// Batches of up to 256 writes carry about twice the writes per entry under load, so
    /// half the entries (512 behind a snapshot every 256) keep the log's bytes where they
    /// were and cover about as many seconds. dqlite requires at least the threshold.
    static let snapshotTrailing: UInt32 = 512

    deinit {
        if let node { dqlite_node_destroy(node) }
    }

    /// Starts the node's thread; returns when it accepts connections.
    func start() throws {
        try check(dqlite_node_start(node), "start")
    }

    /// Stops the node (its thread ends; Raft state stays on disk).
    func stop() {
        _ = dqlite_node_stop(node)
    }

    /// Rewrites the node's Raft configuration so that it is the only member, a voter: how a
    /// cluster that lost its quorum for good is brought back (the node must not be started).
    func recoverAsSoleMember(address: String) throws {
        try address.withCString { text in
            var info = dqlite_node_info_ext(size: UInt64(MemoryLayout<dqlite_node_info_ext>.size), id: id,
                                            address: UInt64(UInt(bitPattern: text)), dqlite_role: 0)
            try check(dqlite_node_recover_ext(node, &info, 1), "recover")
        }
    }

    /// A fresh node ID for `address`, as dqlite makes them.
    static func generateID(address: String) -> UInt64 {
        UInt64(dqlite_generate_node_id(address))
    }

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc == 0 else {
            let message = node.flatMap { dqlite_node_errmsg($0) }.map { String(cString: $0) } ?? ""
            throw ClusterError.nodeFailed("\(what) failed (code \(rc)): \(message)")
        }
    }
}
