import NIOSSL
import Storage
import Synchronization

/// A cached wire connection to the cluster's leader for membership requests, made again
/// when it breaks or leadership moves.
final class LeaderConnection: Sendable {
    private let tls: NIOSSLContext
    private let addresses: @Sendable () -> [String]
    private let cached = Mutex<DqliteClient?>(nil)

    init(tls: NIOSSLContext, addresses: @escaping @Sendable () -> [String]) {
        self.tls = tls
        self.addresses = addresses
    }

    /// Runs `body` against the leader; on a transport or leadership error the connection
    /// is dropped and the error rethrown (the caller's next call finds the new leader).
    func run<T>(_ body: (DqliteClient) async throws -> T) async throws -> T {
        let client: DqliteClient
        if let c = cached.withLock({ $0 }), c.isActive {
            client = c
        } else {
            client = try await DqliteLeaderFinder(addresses: addresses(), tls: tls, timeout: .seconds(2)).connectToLeader()
            cached.withLock { $0 = client }
        }
        do {
            return try await body(client)
        } catch let error as DqliteError where error.isLeadershipOrTransport {
            drop()
            throw error
        }
    }

    /// The members with their roles and the leader's ID (0 when none is known), in one go.
    func membersAndLeader() async throws -> (members: [DqliteNodeInfo], leader: UInt64) {
        try await run { c in (try await c.cluster(), try await c.leader()?.id ?? 0) }
    }

    func drop() {
        cached.withLock { c in c?.close(); c = nil }
    }
}
