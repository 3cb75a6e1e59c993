/// Errors of cluster setup and membership, worded for the person running the command.
public enum ClusterError: Error, Sendable, CustomStringConvertible {
    case io(String)
    case invalidToken(String)
    case joinRefused(String)
    case nodeFailed(String)
    case invalidAddress(String)
    case notMember(String)

    public var description: String {
        switch self {
        case .io(let s): return s
        case .invalidToken(let s): return "invalid cluster token: \(s)"
        case .joinRefused(let s): return "the cluster refused to let this node join: \(s)"
        case .nodeFailed(let s): return "dqlite node failed: \(s)"
        case .invalidAddress(let s): return "\(s) is not an IPv4 address with a port (IP:PORT); dqlite binds IPv4 literals only"
        case .notMember(let s): return s
        }
    }
}
