import Cluster
import Storage
import Testing

/// The role rules on their own.
struct RolePlannerTests {
    private func node(_ id: UInt64, _ role: DqliteRole) -> DqliteNodeInfo {
        DqliteNodeInfo(id: id, address: "127.0.0.1:\(9000 + id)", role: role)
    }

    @Test func fillsVotersThenStandBys() {
        let members = (1...6).map { node($0, $0 == 1 ? .voter : .spare) }
        let changes = RolePlanner().plan(members: members, online: Set(1...6), leader: 1)
        #expect(changes == [.init(id: 2, role: .voter), .init(id: 3, role: .voter),
                            .init(id: 4, role: .standBy), .init(id: 5, role: .standBy), .init(id: 6, role: .standBy)])
    }

    @Test func replacesAnOfflineVoterWithAStandBy() {
        let members = [node(1, .voter), node(2, .voter), node(3, .voter), node(4, .standBy), node(5, .standBy)]
        let changes = RolePlanner().plan(members: members, online: [1, 3, 4, 5], leader: 1)
        #expect(changes.prefix(2) == [.init(id: 4, role: .voter), .init(id: 2, role: .spare)])
    }

    @Test func demotesAnOfflineStandByAndPromotesASpare() {
        let members = [node(1, .voter), node(2, .voter), node(3, .voter), node(4, .standBy), node(5, .spare)]
        #expect(RolePlanner().plan(members: members, online: [1, 2, 3, 5], leader: 1)
                == [.init(id: 4, role: .spare), .init(id: 5, role: .standBy)])
    }

    @Test func leavesOfflineVotersAloneWithoutReplacements() {
        let members = [node(1, .voter), node(2, .voter), node(3, .voter)]
        #expect(RolePlanner().plan(members: members, online: [1, 2], leader: 1).isEmpty)
    }

    @Test func aReturningNodeBecomesAStandByNotAnExtraVoter() {
        let members = [node(1, .voter), node(2, .spare), node(3, .voter), node(4, .voter)]
        #expect(RolePlanner().plan(members: members, online: [1, 2, 3, 4], leader: 1) == [.init(id: 2, role: .standBy)])
    }

    @Test func leavesExtraVotersAlone() {
        let members = (1...4).map { node($0, .voter) }
        #expect(RolePlanner().plan(members: members, online: Set(1...4), leader: 4).isEmpty)
    }
}
