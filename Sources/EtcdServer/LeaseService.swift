import EtcdAPI
import Foundation
import GRPCCore
import KineLayer

/// The etcd `Lease` service on the KineLayer's real leases.
struct LeaseService: Etcdserverpb_Lease.SimpleServiceProtocol {
    let store: KineStore
    let identity: EtcdIdentity

    /// The longest TTL etcd accepts.
    static let maxTTL: Int64 = 9_000_000_000

    func leaseGrant(request: Etcdserverpb_LeaseGrantRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseGrantResponse {
        if request.ttl > Self.maxTTL { throw EtcdError.leaseTTLTooLarge }
        return try await EtcdError.mapping {
            let lease = try await store.grantLease(ttl: max(1, request.ttl), id: request.id)
            var response = Etcdserverpb_LeaseGrantResponse()
            response.header = identity.header(try await store.currentRevision())
            response.id = lease.id
            response.ttl = lease.ttl
            return response
        }
    }

    func leaseRevoke(request: Etcdserverpb_LeaseRevokeRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseRevokeResponse {
        try await EtcdError.mapping {
            let revision = try await store.revokeLease(request.id)
            var response = Etcdserverpb_LeaseRevokeResponse()
            response.header = identity.header(revision)
            return response
        }
    }

    /// Keep-alive stream: each request renews a lease; a lease that no longer exists is
    /// answered with TTL 0, as etcd does.
    func leaseKeepAlive(request: RPCAsyncSequence<Etcdserverpb_LeaseKeepAliveRequest, any Error>,
                        response: RPCWriter<Etcdserverpb_LeaseKeepAliveResponse>, context: ServerContext) async throws {
        for try await keepAlive in request {
            var r = Etcdserverpb_LeaseKeepAliveResponse()
            r.id = keepAlive.id
            do {
                r.ttl = try await store.keepAlive(lease: keepAlive.id).ttl
            } catch KineError.leaseNotFound {
                r.ttl = 0
            } catch {
                throw EtcdError.from(error)
            }
            r.header = identity.header(store.watchRevision)
            try await response.write(r)
        }
    }

    /// TimeToLive: remaining and granted TTL, and the keys if asked; TTL -1 for a lease that
    /// does not exist, as etcd answers.
    func leaseTimeToLive(request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseTimeToLiveResponse {
        var response = Etcdserverpb_LeaseTimeToLiveResponse()
        response.id = request.id
        do {
            let (lease, keys) = try await store.lease(request.id, withKeys: request.keys)
            response.ttl = max(0, lease.remainingSeconds())
            response.grantedTtl = lease.ttl
            response.keys = keys.map { Data($0) }
        } catch KineError.leaseNotFound {
            response.ttl = -1
        } catch {
            throw EtcdError.from(error)
        }
        response.header = identity.header(store.watchRevision)
        return response
    }

    func leaseLeases(request: Etcdserverpb_LeaseLeasesRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseLeasesResponse {
        try await EtcdError.mapping {
            var response = Etcdserverpb_LeaseLeasesResponse()
            response.header = identity.header(try await store.currentRevision())
            response.leases = try await store.allLeases().map { lease in
                var status = Etcdserverpb_LeaseStatus()
                status.id = lease.id
                return status
            }
            return response
        }
    }
}
