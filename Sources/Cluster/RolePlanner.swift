import Storage

/// The role rules, as go-dqlite's `app` package keeps them: three voters as soon as three
/// nodes exist, then up to three stand-bys, the rest spares. A voter that is offline is
/// replaced by an online node of a lower role and then demoted, so the count of online
/// voters comes back without ever dropping below what it was; an offline stand-by is
/// demoted to spare.
public struct RolePlanner: Sendable {
    public var targetVoters = 3
    public var targetStandBys = 3

    public init() {}

    /// One role change.
    public struct Change: Sendable, Equatable {
        public var id: UInt64
        public var role: DqliteRole

        public init(id: UInt64, role: DqliteRole) {
            self.id = id
            self.role = role
        }
    }

    /// The changes, in the order to make them, for `members` of which `online` are
    /// reachable, with `leader` (never demoted) leading.
    public func plan(members: [DqliteNodeInfo], online: Set<UInt64>, leader: UInt64) -> [Change] {
        var roles = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.role) })
        let order = members.map(\.id).sorted()
        var changes: [Change] = []
        func assign(_ id: UInt64, _ role: DqliteRole) {
            roles[id] = role
            changes.append(Change(id: id, role: role))
        }
        func candidates(_ role: DqliteRole) -> [UInt64] { order.filter { roles[$0] == role && online.contains($0) } }
        func count(_ role: DqliteRole) -> Int { roles.values.filter { $0 == role }.count }

        // Replace offline voters by online stand-bys (or spares), then demote them.
        for id in order where roles[id] == .voter && !online.contains(id) && id != leader {
            guard let replacement = (candidates(.standBy) + candidates(.spare)).first else { break }
            assign(replacement, .voter)
            assign(id, .spare)
        }
        // Fill up the voters. Extra voters (a node handing its role over promotes its
        // replacement before it steps down) are left alone: demoting one could race with
        // that hand-over, and a fourth voter costs nothing in safety.
        while count(.voter) < targetVoters, let next = (candidates(.standBy) + candidates(.spare)).first {
            assign(next, .voter)
        }
        // An offline stand-by replicates nothing: it becomes a spare (and comes back as a
        // stand-by when it answers again); online spares fill the stand-bys up.
        for id in order where roles[id] == .standBy && !online.contains(id) {
            assign(id, .spare)
        }
        while count(.standBy) < targetStandBys, let next = candidates(.spare).first {
            assign(next, .standBy)
        }
        for id in candidates(.standBy).reversed() where count(.standBy) > targetStandBys {
            assign(id, .spare)
        }
        return changes
    }
}
