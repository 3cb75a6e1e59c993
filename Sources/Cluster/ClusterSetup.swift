import Foundation
import Logging
import Storage

/// Gives a data directory its place in a cluster before the node process starts: a node
/// that already belongs to one keeps its identity; otherwise it joins through a member
/// (`--join` with `--token`) or bootstraps a new cluster of one (ID 1, a new CA and token).
public enum ClusterSetup {
    /// The cluster address used when none is given.
    public static let defaultListen = "127.0.0.1:19001"

    /// The node's identity, after joining or bootstrapping if needed.
    public static func prepare(paths: ClusterPaths, listen: String?, join: String?, token: String?,
                               logger: Logger) async throws -> ClusterIdentity {
        if let identity = try ClusterIdentity.load(paths) {
            if let listen, listen != identity.address {
                throw ClusterError.notMember("\(paths.dataDirectory) belongs to cluster member \(identity.id) at \(identity.address), not \(listen); use that address or another --data-dir")
            }
            try ClusterCertificates(paths: paths).ensureNodeCertificate(id: identity.id)
            return identity
        }
        let address = listen ?? defaultListen
        guard IPv4Address.isValid(address) else { throw ClusterError.invalidAddress(address) }
        if let join {
            guard let token else { throw ClusterError.invalidToken("--join needs --token (print it with `skiff cluster token` on a member)") }
            return try await joinCluster(paths: paths, address: address, member: join, token: try ClusterToken(parsing: token), logger: logger)
        }
        let certificates = ClusterCertificates(paths: paths)
        try certificates.createAuthority()
        try ClusterToken.generate(caDER: try certificates.authorityDER()).save(paths)
        let identity = ClusterIdentity(id: 1, address: address)
        try certificates.ensureNodeCertificate(id: identity.id)
        try ClusterMembers.save([address], paths)
        try identity.save(paths)
        logger.info("bootstrapped a new cluster", metadata: ["address": "\(address)"])
        return identity
    }

    private static func joinCluster(paths: ClusterPaths, address: String, member: String, token: ClusterToken,
                                    logger: Logger) async throws -> ClusterIdentity {
        let identity = ClusterIdentity(id: DqliteNode.generateID(address: address), address: address)
        let response = try await JoinClient(token: token).join(
            through: member, request: JoinRequest(token: token.description, id: identity.id, address: address))
        if let error = response.error { throw ClusterError.joinRefused(error) }
        for (relative, text) in response.files {
            guard !relative.contains(".."), !relative.hasPrefix("/") else { continue }
            try ClusterFile.write(Data(text.utf8), to: paths.dataDirectory + "/" + relative,
                                  mode: relative.hasSuffix(".key") || relative.hasSuffix("token") ? 0o600 : 0o644)
        }
        try ClusterCertificates(paths: paths).ensureNodeCertificate(id: identity.id)
        try ClusterMembers.save(response.members, paths)
        try identity.save(paths)
        logger.info("joined the cluster", metadata: ["through": "\(member)", "id": "\(identity.id)"])
        return identity
    }
}
