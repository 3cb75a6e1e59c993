import Foundation
import Logging
import NIOPosix
import Storage

/// The node process (`skiff dqlite-node`): hosts this member's dqlite node, its TLS cluster
/// port, the join responder and the role manager, until told to stop. It runs apart from
/// the API server so that an assertion inside libdqlite never takes the server down; the
/// server's ``NodeSupervisor`` restarts it.
public enum NodeHost {
    /// The line the node process prints on standard output once it serves.
    public static let readyLine = "skiff-dqlite-node ready"

    /// Runs the node in `paths` until `stop` returns, then hands its role over and stops.
    public static func run(paths: ClusterPaths, latencyMilliseconds: UInt32, logger: Logger,
                           until stop: @Sendable () async -> Void) async throws {
        ParentWatch.start()
        signal(SIGPIPE, SIG_IGN)
        let lock = try DirectoryLock(path: paths.nodeLock)
        defer { lock.release() }
        guard let identity = try ClusterIdentity.load(paths) else {
            throw ClusterError.notMember("\(paths.directory) holds no cluster identity; start `skiff server` or `skiff etcd` with --datastore dqlite or --join first")
        }
        let token = try ClusterToken.load(paths)
        let certificates = ClusterCertificates(paths: paths)
        let clientTLS = try certificates.clientContext()
        let serverTLS = try certificates.serverContext()
        let group = MultiThreadedEventLoopGroup.singleton
        NodeDialer.current.withLock { $0 = NodeDialer(tls: clientTLS, group: group) }
        try FileManager.default.createDirectory(atPath: paths.nodeDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])

        let bindName = "skiff-node-\(identity.id)-\(getpid())"
        let node = try DqliteNode(id: identity.id, address: identity.address, directory: paths.nodeDirectory,
                                  bindName: bindName, latencyMilliseconds: latencyMilliseconds)
        AIOTeardown.enable(logger: logger)
        RaftSendLimit.enable(logger: logger)
        try node.start()
        defer { node.stop() }

        let book = AddressBook([identity.address] + ClusterMembers.load(paths).filter { $0 != identity.address })
        let leader = LeaderConnection(tls: clientTLS) { book.all }
        let admission = JoinAdmission(token: token, paths: paths, leader: leader, logger: logger)
        let proxy = try await ClusterProxy.start(address: identity.address, tls: serverTLS, nodeSocket: bindName,
                                                 group: group, logger: logger) { await admission.admit($0) }
        let roles = RoleManager(identity: identity, leader: leader, tls: clientTLS, paths: paths,
                                book: book, interval: .milliseconds(500), logger: logger)
        logger.info("dqlite node serving", metadata: ["id": "\(identity.id)", "address": "\(identity.address)"])
        FileHandle.standardOutput.write(Data((readyLine + "\n").utf8))

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await roles.run()
            }
            group.addTask {
                await RaftSendLimit.report(every: .seconds(5), logger: logger)
            }
            await stop()
            group.cancelAll()
        }
        await roles.handOver()
        leader.drop()
        await proxy.close()
    }
}

/// Ends the node process at once when the server that started it dies (also on kill -9), so
/// that a killed member takes its node with it. The server holds the write end of the
/// node's standard input and never writes: end of file means the server is gone.
/// (PR_SET_PDEATHSIG is not usable: it fires when the spawning *thread* exits, and the
/// server spawns from pooled threads that come and go.)
enum ParentWatch {
    static func start() {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR) { _exit(0) }
            }
        }
        thread.start()
    }
}

/// Decides join requests that reach this member's cluster port.
struct JoinAdmission: Sendable {
    let token: ClusterToken
    let paths: ClusterPaths
    let leader: LeaderConnection
    let logger: Logger

    func admit(_ request: JoinRequest) async -> JoinResponse {
        guard let offered = try? ClusterToken(parsing: request.token), offered.matches(token) else {
            logger.warning("refused a join with a wrong token", metadata: ["address": "\(request.address)"])
            return JoinResponse(error: "the token is not this cluster's; get it with `skiff cluster token` on a member")
        }
        guard IPv4Address.isValid(request.address) else {
            return JoinResponse(error: ClusterError.invalidAddress(request.address).description)
        }
        do {
            let members = try await leader.run { try await $0.cluster() }
            if let existing = members.first(where: { $0.address == request.address }) {
                if existing.id != request.id {
                    return JoinResponse(error: "address \(request.address) already belongs to member \(existing.id); remove it first with `skiff cluster remove`")
                }
            } else if members.contains(where: { $0.id == request.id }) {
                return JoinResponse(error: "node ID \(request.id) is already in use")
            } else {
                try await addRetrying(request)
                logger.info("a node joined", metadata: ["id": "\(request.id)", "address": "\(request.address)"])
            }
            var files: [String: String] = [:]
            for relative in ["cluster/ca.crt", "cluster/ca.key", "cluster/token"] + ClusterPaths.sharedFiles {
                if let text = try? String(contentsOfFile: paths.dataDirectory + "/" + relative, encoding: .utf8) {
                    files[relative] = text
                }
            }
            let addresses = members.map(\.address) + [request.address]
            return JoinResponse(error: nil, files: files, members: Array(Set(addresses)).sorted())
        } catch {
            return JoinResponse(error: "the cluster cannot add members right now: \(error)")
        }
    }
}

extension JoinAdmission {
    /// Adds the node, waiting out a configuration change already in progress (another
    /// node's join or promotion) for up to 15 seconds.
    private func addRetrying(_ request: JoinRequest) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            do {
                try await leader.run { try await $0.add(id: request.id, address: request.address) }
                return
            } catch let error as DqliteError {
                guard ContinuousClock.now < deadline else { throw error }
                if case .failure(_, let message) = error, !message.contains("in progress") { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// IPv4 "a.b.c.d:port" checks (dqlite binds IPv4 literals only).
public enum IPv4Address {
    public static func isValid(_ address: String) -> Bool {
        guard let (host, _) = try? DqliteAddress.split(address) else { return false }
        var storage = in_addr()
        return inet_pton(AF_INET, host, &storage) == 1
    }
}
