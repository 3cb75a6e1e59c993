import Cluster
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing

/// Loses the request or the answer of the next COMMIT, once.
final class LoseNextCommit: DqliteFaultPlan {
    private let state = Mutex<(armed: DqliteFault?, fired: Int)>((nil, 0))

    func arm(_ fault: DqliteFault) { state.withLock { $0.armed = fault } }
    var fired: Int { state.withLock { $0.fired } }

    func fault(forSQL sql: String) -> DqliteFault? {
        guard sql.uppercased().hasPrefix("COMMIT") else { return nil }
        return state.withLock { state in
            guard let fault = state.armed else { return nil }
            state.armed = nil
            state.fired += 1
            return fault
        }
    }
}

/// The commit token against a real one-member cluster: a write whose COMMIT answer is lost
/// (it committed, the client cannot know) or whose COMMIT never reached the leader (it did
/// not) is applied exactly once, and the caller gets its answer, not an error.
extension ClusterIntegrationTests {
    @Test func aLostCommitIsAppliedExactlyOnce() async throws {
        let cluster = try TestCluster.start(1)
        defer { cluster.destroy() }
        let plan = LoseNextCommit()
        var configuration = try cluster.datastoreConfiguration()
        configuration.faults = plan
        let db = DqliteDatabase(configuration)
        defer { Task { await db.close() } }
        // No unique key: a transaction run twice leaves two rows.
        try await db.write { c in try await c.execute("CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)") }
        func count(_ value: String) async throws -> Int64? {
            try await db.read { c in try await c.queryFirst("SELECT count(*) FROM log WHERE v = ?", [.text(value)])?.int(0) }
        }

        plan.arm(.loseAnswer)
        let landed = try await db.write { c in try await c.execute("INSERT INTO log (v) VALUES ('answer-lost')").lastInsertID }
        #expect(plan.fired == 1, "the COMMIT's answer was lost")
        #expect(try await count("answer-lost") == 1, "committed once: the token showed it landed, so it was not run again")
        #expect(landed > 0)

        plan.arm(.loseRequest)
        try await db.write { c in try await c.execute("INSERT INTO log (v) VALUES ('request-lost')") }
        #expect(plan.fired == 2, "the COMMIT never reached the leader")
        #expect(try await count("request-lost") == 1, "not lost: no token, so the transaction was run again, once")

        try await db.write { c in try await c.execute("INSERT INTO log (v) VALUES ('after')") }
        #expect(try await db.read { c in try await c.queryFirst("SELECT count(*) FROM log")?.int(0) } == 3)
    }
}
