import Foundation
import Storage

/// Brings back a cluster that lost its quorum for good (most voters gone): the stopped node
/// in `paths` becomes the only member, with all the data it has. Other members must then
/// join again with empty data directories.
public enum ClusterRecovery {
    /// Rewrites this member's Raft configuration to itself alone. The member must be stopped
    /// (its node lock is taken here); it should be the survivor with the newest data.
    public static func recoverAsSoleMember(paths: ClusterPaths) throws -> ClusterIdentity {
        // A node process that was just stopped may take a moment to let go of its lock.
        var lock: DirectoryLock?
        for attempt in 0..<20 where lock == nil {
            lock = try? DirectoryLock(path: paths.nodeLock)
            if lock == nil && attempt < 19 { usleep(250_000) }
        }
        guard let lock else {
            throw ClusterError.notMember("the node in \(paths.dataDirectory) is running; stop its server first")
        }
        defer { lock.release() }
        guard let identity = try ClusterIdentity.load(paths) else {
            throw ClusterError.notMember("\(paths.dataDirectory) is not a cluster member's data directory (no cluster/node.json)")
        }
        let node = try DqliteNode(id: identity.id, address: identity.address, directory: paths.nodeDirectory,
                                  bindName: "skiff-recover-\(identity.id)-\(getpid())", latencyMilliseconds: 20)
        try node.recoverAsSoleMember(address: identity.address)
        try ClusterMembers.save([identity.address], paths)
        return identity
    }
}
