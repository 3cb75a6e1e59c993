/// Numbers of the dqlite wire protocol (version 1), as dqlite 1.11 speaks it.
///
/// Every message is an 8-byte header (body length in 8-byte words as u32, type u8, schema
/// u8, two reserved bytes) and a body padded to 8 bytes; integers are little-endian.
public enum DqliteWire {
    /// The protocol version a client sends, as a u64, before its first request.
    static let protocolVersion: UInt64 = 1

    /// Request types.
    enum Request: UInt8 {
        case leader = 0, client = 1, heartbeat = 2, open = 3, prepare = 4, exec = 5, query = 6
        case finalize = 7, execSQL = 8, querySQL = 9, interrupt = 10, add = 12, assign = 13
        case remove = 14, dump = 15, cluster = 16, transfer = 17, describe = 18, weight = 19
    }

    /// Response types.
    enum Response: UInt8 {
        case failure = 0, server = 1, welcome = 2, servers = 3, db = 4, stmt = 5, result = 6
        case rows = 7, empty = 8, files = 9, metadata = 10
    }

    /// Column and parameter type codes.
    enum ValueType: UInt8 {
        case integer = 1, float = 2, text = 3, blob = 4, null = 5, unixTime = 9, iso8601 = 10, boolean = 11
    }

    /// The u64 that ends the last frame of a result.
    static let rowsDone: UInt64 = 0xFFFF_FFFF_FFFF_FFFF
    /// The u64 that ends a frame after which more frames of the same result follow.
    static let rowsPart: UInt64 = 0xEEEE_EEEE_EEEE_EEEE
    /// SQLite's SQLITE_CORRUPT, as a FAILURE answer's code.
    static let sqliteCorrupt: UInt64 = 11

    /// Failure codes that mean "ask the current leader instead".
    static let notLeader: UInt64 = 10250
    static let leadershipLost: UInt64 = 10506
}

/// A node's role in the cluster's Raft configuration.
public enum DqliteRole: UInt64, Sendable, Codable, CustomStringConvertible {
    /// Replicates the log and votes: part of the quorum.
    case voter = 0
    /// Replicates the log without voting, ready to be promoted.
    case standBy = 1
    /// A member that holds no data.
    case spare = 2

    public var description: String {
        switch self {
        case .voter: return "voter"
        case .standBy: return "stand-by"
        case .spare: return "spare"
        }
    }
}

/// A member of a dqlite cluster as the leader describes it.
public struct DqliteNodeInfo: Sendable, Hashable, Codable {
    public var id: UInt64
    public var address: String
    public var role: DqliteRole

    public init(id: UInt64, address: String, role: DqliteRole) {
        self.id = id
        self.address = address
        self.role = role
    }
}

/// What can go wrong talking to a dqlite node.
public enum DqliteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The node answered FAILURE with a code (SQLite's extended code or dqlite's own) and message.
    case failure(code: UInt64, message: String)
    /// The connection closed or broke before the answer came.
    case connectionLost(String)
    /// No answer came within the request's time limit.
    case timeout(seconds: Double)
    /// The node sent something this client does not understand.
    case protocolViolation(String)
    /// No node knows a leader.
    case noLeader
    /// A COMMIT failed and its transaction's token is not in the database: nothing was
    /// committed, and the transaction may run again.
    case commitNotApplied(String)

    public var description: String {
        switch self {
        case .failure(let code, let message): return "dqlite error \(code): \(message)"
        case .connectionLost(let why): return "dqlite connection lost: \(why)"
        case .timeout(let seconds): return "dqlite node did not answer within \(seconds) s"
        case .protocolViolation(let what): return "dqlite protocol violation: \(what)"
        case .noLeader: return "the dqlite cluster has no leader"
        case .commitNotApplied(let why): return "the commit did not apply (\(why)); it runs again"
        }
    }

    /// Whether the request may be sent again to the (new) leader: the node is not the
    /// leader, lost leadership, or the connection went away; or a transaction's COMMIT
    /// failed and its token showed that nothing was committed.
    public var isLeadershipOrTransport: Bool {
        switch self {
        case .failure(let code, _):
            // 12 (SQLITE_NOTFOUND) is how an open database answers after leadership moved.
            return code == DqliteWire.notLeader || code == DqliteWire.leadershipLost || code == 12
        case .connectionLost, .timeout, .noLeader, .commitNotApplied: return true
        case .protocolViolation: return false
        }
    }

    /// Whether the statement failed because another connection holds the write lock.
    public var isBusy: Bool {
        if case .failure(let code, _) = self { return code & 0xFF == 5 || code & 0xFF == 6 }
        return false
    }

    /// Whether the statement violated a constraint.
    public var isConstraint: Bool {
        if case .failure(let code, _) = self { return code & 0xFF == 19 }
        return false
    }
}
