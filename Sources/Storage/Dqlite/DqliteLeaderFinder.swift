import NIOSSL

/// Finds the cluster's leader by asking known members in turn, and connects to it.
public struct DqliteLeaderFinder: Sendable {
    public var addresses: [String]
    public var tls: NIOSSLContext?
    public var timeout: Duration
    /// Failures of the wire made on purpose (tests).
    public var faults: (any DqliteFaultPlan)?

    public init(addresses: [String], tls: NIOSSLContext?, timeout: Duration, faults: (any DqliteFaultPlan)? = nil) {
        self.addresses = addresses
        self.tls = tls
        self.timeout = timeout
        self.faults = faults
    }

    /// A connection to the leader. Fails with ``DqliteError/noLeader`` when no member
    /// answering knows one (an election is under way, or quorum is lost).
    public func connectToLeader() async throws -> DqliteClient {
        var lastError: DqliteError = .noLeader
        for address in addresses {
            let client: DqliteClient
            do {
                client = try await DqliteClient.connect(to: address, tls: tls, timeout: timeout, faults: faults)
            } catch let error as DqliteError {
                lastError = error
                continue
            }
            do {
                guard let leader = try await client.leader() else {
                    client.close()
                    continue
                }
                if leader.address == address { return client }
                client.close()
                return try await DqliteClient.connect(to: leader.address, tls: tls, timeout: timeout, faults: faults)
            } catch let error as DqliteError {
                client.close()
                lastError = error
            }
        }
        if case .connectionLost = lastError, addresses.count > 0 {
            throw DqliteError.connectionLost("no member answered (asked \(addresses.joined(separator: ", ")))")
        }
        throw lastError == .noLeader ? DqliteError.noLeader : lastError
    }
}
