import GRPCCore
import KineLayer

/// The errors etcd clients recognise, with etcd's gRPC codes and messages (clients match on
/// the message text).
enum EtcdError {
    static let compacted = RPCError(code: .outOfRange, message: "etcdserver: mvcc: required revision has been compacted")
    static let futureRevision = RPCError(code: .outOfRange, message: "etcdserver: mvcc: required revision is a future revision")
    static let leaseNotFound = RPCError(code: .notFound, message: "etcdserver: requested lease not found")
    static let leaseExists = RPCError(code: .failedPrecondition, message: "etcdserver: lease already exists")
    static let leaseTTLTooLarge = RPCError(code: .outOfRange, message: "etcdserver: too large lease TTL")
    static let keyNotFound = RPCError(code: .invalidArgument, message: "etcdserver: key not found")
    static let emptyKey = RPCError(code: .invalidArgument, message: "etcdserver: key is not provided")
    static let tooManyOps = RPCError(code: .invalidArgument, message: "etcdserver: too many operations in txn request")
    static let duplicateKey = RPCError(code: .invalidArgument, message: "etcdserver: duplicate key given in txn request")
    static let requestTooLarge = RPCError(code: .invalidArgument, message: "etcdserver: request is too large")
    static let noSpace = RPCError(code: .resourceExhausted, message: "etcdserver: mvcc: database space exceeded")

    /// The client's view of a KineLayer or storage error.
    static func from(_ error: any Error) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        guard let kine = error as? KineError else {
            return RPCError(code: .unavailable, message: "etcdserver: storage error: \(error)")
        }
        switch kine {
        case .compacted: return compacted
        case .futureRevision: return futureRevision
        case .leaseNotFound: return leaseNotFound
        case .leaseExists: return leaseExists
        case .notFound: return keyNotFound
        case .invalidArgument(let message): return RPCError(code: .invalidArgument, message: "etcdserver: \(message)")
        case .closed: return RPCError(code: .unavailable, message: "etcdserver: server stopped")
        case .watcherOverflow: return RPCError(code: .resourceExhausted, message: "etcdserver: watcher fell behind")
        case .keyExists, .conflict: return RPCError(code: .failedPrecondition, message: "etcdserver: \(kine)")
        }
    }

    /// Runs `body`, turning any error into the etcd error a client expects.
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw from(error)
        }
    }
}
