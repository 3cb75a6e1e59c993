import Foundation

/// Who this node is in the cluster: its dqlite node ID and cluster address. Written once
/// (at bootstrap or join) to `cluster/node.json` and read at every start.
public struct ClusterIdentity: Codable, Sendable, Equatable {
    /// The dqlite node ID; the node that bootstraps a cluster has ID 1.
    public var id: UInt64
    /// The address other members and clients dial ("IP:PORT").
    public var address: String

    public init(id: UInt64, address: String) {
        self.id = id
        self.address = address
    }

    /// The identity stored in `paths`, or `nil` if this node has not joined or bootstrapped.
    public static func load(_ paths: ClusterPaths) throws -> ClusterIdentity? {
        guard let data = FileManager.default.contents(atPath: paths.identity) else { return nil }
        return try JSONDecoder().decode(ClusterIdentity.self, from: data)
    }

    public func save(_ paths: ClusterPaths) throws {
        try ClusterFile.write(try JSONEncoder().encode(self), to: paths.identity, mode: 0o644)
    }
}

/// The member addresses a node knows, kept in `cluster/members.json` so that it can find
/// the cluster again after a restart even if the member it joined through is gone.
public enum ClusterMembers {
    public static func load(_ paths: ClusterPaths) -> [String] {
        guard let data = FileManager.default.contents(atPath: paths.members),
              let list = try? JSONDecoder().decode([String].self, from: data) else { return [] }
        return list
    }

    public static func save(_ addresses: [String], _ paths: ClusterPaths) throws {
        try ClusterFile.write(try JSONEncoder().encode(addresses), to: paths.members, mode: 0o644)
    }
}

/// Writing cluster files: atomically (temporary file, then rename) and with a mode.
enum ClusterFile {
    static func write(_ data: Data, to path: String, mode: Int) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: mode]) else {
            throw ClusterError.io("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 { throw ClusterError.io("cannot rename \(temporary) to \(path)") }
    }
}
