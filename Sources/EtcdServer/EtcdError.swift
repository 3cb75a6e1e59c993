import GRPCCore
import KineLayer
import Logging

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
    static let noLeader = RPCError(code: .unavailable, message: "etcdserver: no leader")
    static let requestTimedOut = RPCError(code: .unavailable, message: "etcdserver: request timed out")
    /// Where the storage detail behind an etcd error goes (clients get etcd's words only).
    static let logger = Logger(label: "skiff.etcd")

    /// The client's view of a KineLayer or storage error.
    static func from(_ error: any Error) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        guard let kine = KineError.classify(error) else {
            logger.warning("request failed", metadata: ["error": "\(error)"])
            return requestTimedOut
        }
        switch kine {
        case .compacted: return compacted
        case .futureRevision: return futureRevision
        case .leaseNotFound: return leaseNotFound
        case .leaseExists: return leaseExists
        case .notFound: return keyNotFound
        case .invalidArgument(let message): return RPCError(code: .invalidArgument, message: "etcdserver: \(message)")
        case .closed: return RPCError(code: .unavailable, message: "etcdserver: server stopped")
        case .unavailable(let why):
            logger.warning("no storage leader", metadata: ["error": "\(why)"])
            return noLeader
        case .storageFailed(let why):
            // etcd's answer to a proposal whose fate it cannot tell; clients retry it.
            logger.warning("storage failed", metadata: ["error": "\(why)"])
            return requestTimedOut
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
