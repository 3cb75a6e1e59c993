import Foundation
import Storage

/// One member as `skiff cluster status` shows it.
public struct ClusterMemberStatus: Codable, Sendable {
    public var id: UInt64
    public var address: String
    public var role: String
    public var leader: Bool
    public var healthy: Bool
    public var error: String?
}

/// Membership queries and changes for the `skiff cluster` commands, made with the node
/// certificate of a member's data directory.
public struct ClusterAdmin: Sendable {
    public let paths: ClusterPaths
    private let leader: LeaderConnection
    private let probe: MemberProbe

    public init(dataDirectory: String) throws {
        paths = ClusterPaths(dataDirectory: dataDirectory)
        guard let identity = try ClusterIdentity.load(paths) else {
            throw ClusterError.notMember("\(dataDirectory) is not a cluster member's data directory (no cluster/node.json)")
        }
        let tls = try ClusterCertificates(paths: paths).clientContext()
        let addresses = [identity.address] + ClusterMembers.load(paths).filter { $0 != identity.address }
        leader = LeaderConnection(tls: tls) { addresses }
        probe = MemberProbe(tls: tls)
    }

    /// Every member with its role, whether it leads, and whether it answers.
    public func status() async throws -> [ClusterMemberStatus] {
        let (members, leaderID) = try await leader.membersAndLeader()
        return await withTaskGroup(of: ClusterMemberStatus.self) { group in
            for m in members {
                group.addTask {
                    let problem = await probe.check(m.address)
                    return ClusterMemberStatus(id: m.id, address: m.address, role: m.role.description,
                                               leader: m.id == leaderID, healthy: problem == nil, error: problem)
                }
            }
            var result: [ClusterMemberStatus] = []
            for await s in group { result.append(s) }
            let rank = ["voter": 0, "stand-by": 1, "spare": 2]
            return result.sorted { (rank[$0.role] ?? 3, $0.id) < (rank[$1.role] ?? 3, $1.id) }
        }
    }

    /// Removes the member with ID or address `node`.
    public func remove(_ node: String) async throws -> DqliteNodeInfo {
        let (members, leaderID) = try await leader.membersAndLeader()
        guard let member = members.first(where: { String($0.id) == node || $0.address == node }) else {
            throw ClusterError.notMember("no member has ID or address \(node); see `skiff cluster status`")
        }
        if member.id == leaderID {
            throw ClusterError.notMember("member \(member.id) leads the cluster; stop it first (it hands leadership over) or remove another member")
        }
        try await leader.run { try await $0.remove(id: member.id) }
        return member
    }

    /// The token that lets a new node join.
    public func token() throws -> ClusterToken { try ClusterToken.load(paths) }
}

/// Opening the replicated database from the server side of a member.
public enum ClusterDatastore {
    /// The dqlite database of the cluster this data directory belongs to, over mutual TLS.
    public static func open(paths: ClusterPaths, identity: ClusterIdentity) throws -> DqliteDatabase {
        DqliteDatabase(try configuration(paths: paths, identity: identity))
    }

    /// How this member reaches the cluster: itself first, then the members it knows.
    public static func configuration(paths: ClusterPaths, identity: ClusterIdentity) throws -> DqliteConfiguration {
        DqliteConfiguration(addresses: [identity.address] + ClusterMembers.load(paths).filter { $0 != identity.address },
                            tls: try ClusterCertificates(paths: paths).clientContext())
    }
}
