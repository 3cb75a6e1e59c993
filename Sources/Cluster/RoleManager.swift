import Logging
import NIOSSL
import Storage
import Synchronization

/// Keeps the cluster's roles right, from the node that leads: every half second it looks at
/// the members, checks which answer, and makes the changes ``RolePlanner`` asks for. Every
/// node also records the member list (for finding the cluster after a restart). On a
/// graceful stop, ``handOver()`` gives this node's role to another node first.
final class RoleManager: Sendable {
    private let identity: ClusterIdentity
    private let leader: LeaderConnection
    private let probe: MemberProbe
    private let paths: ClusterPaths
    private let book: AddressBook
    private let failures = Mutex<[UInt64: Int]>([:])
    private let logger: Logger
    private let interval: Duration
    private let planner = RolePlanner()

    /// Probes a member must fail in a row before it counts as offline.
    static let offlineAfter = 2

    init(identity: ClusterIdentity, leader: LeaderConnection, tls: NIOSSLContext, paths: ClusterPaths,
         book: AddressBook, interval: Duration, logger: Logger) {
        self.identity = identity
        self.leader = leader
        self.probe = MemberProbe(tls: tls)
        self.paths = paths
        self.book = book
        self.interval = interval
        self.logger = logger
    }

    func run() async {
        while !Task.isCancelled {
            do {
                try await tick()
            } catch {
                logger.debug("role check failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func tick() async throws {
        let (members, leaderID) = try await leader.membersAndLeader()
        remember(members)
        guard leaderID == identity.id else { return }
        let others = members.filter { $0.id != identity.id }
        let answering = await probe.online(others)
        let online = failures.withLock { counts -> Set<UInt64> in
            var result: Set<UInt64> = [identity.id]
            for m in others {
                counts[m.id] = answering.contains(m.id) ? 0 : (counts[m.id] ?? 0) + 1
                if counts[m.id]! < Self.offlineAfter { result.insert(m.id) }
            }
            return result
        }
        for change in planner.plan(members: members, online: online, leader: identity.id) {
            logger.info("changing a member's role", metadata: ["node": "\(change.id)", "role": "\(change.role)"])
            try await leader.run { try await $0.assign(id: change.id, role: change.role) }
        }
    }

    private func remember(_ members: [DqliteNodeInfo]) {
        let addresses = members.map(\.address).sorted()
        if book.replace(with: [identity.address] + addresses.filter { $0 != identity.address }) { try? ClusterMembers.save(addresses, paths) }
    }

    /// Before a graceful stop: another node takes this node's role (and leadership), and
    /// this node becomes a spare. Best effort: gives up after a few seconds.
    func handOver() async {
        do {
            let members = try await leader.run { try await $0.cluster() }
            guard let me = members.first(where: { $0.id == identity.id }), me.role != .spare else { return }
            let others = members.filter { $0.id != identity.id }
            let online = await probe.online(others)
            let up = others.filter { online.contains($0.id) }
            if me.role == .voter {
                // Leadership first (it takes a moment), then the replacement's promotion
                // and this node's demotion back to back, so the leader's role checks do
                // not run in between.
                let voters = up.filter { $0.role == .voter }
                // The last voter keeps its role: without it there would be no cluster.
                guard !voters.isEmpty else { return }
                try await leaveLeadership(voters: voters)
                if let replacement = up.first(where: { $0.role == .standBy }) ?? up.first(where: { $0.role == .spare }) {
                    logger.info("handing over the voter role", metadata: ["to": "\(replacement.id)"])
                    try await leader.run { try await $0.assign(id: replacement.id, role: .voter) }
                }
            } else if let replacement = up.first(where: { $0.role == .spare }) {
                try await leader.run { try await $0.assign(id: replacement.id, role: .standBy) }
            }
            try await leader.run { try await $0.assign(id: identity.id, role: .spare) }
            logger.info("handed over; this node is now a spare")
        } catch {
            logger.warning("could not hand the role over before stopping", metadata: ["error": "\(error)"])
        }
    }

    /// If this node leads, hands leadership to one of `voters` and waits until it moved.
    private func leaveLeadership(voters: [DqliteNodeInfo]) async throws {
        guard let current = try await leader.run({ try await $0.leader() }), current.id == identity.id,
              let target = voters.first else { return }
        logger.info("transferring leadership", metadata: ["to": "\(target.id)"])
        try await leader.run { try await $0.transfer(to: target.id) }
        leader.drop()
        for _ in 0..<30 {
            if let now = try? await leader.run({ try await $0.leader() }), now.id != identity.id { return }
            leader.drop()
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
