import Foundation
import Storage

/// Leases with real time-to-live: granted, kept alive and revoked in the database, so they
/// survive a restart; an expiry loop revokes those that run out, which deletes their keys
/// through the committer (one revision per key).
public struct LeaseManager: Sendable {
    let db: any SQLDatabase
    let committer: any CommitStrategy

    /// The longest TTL accepted, as etcd's limit (9,000,000,000 seconds).
    static let maxTTL: Int64 = 9_000_000_000

    /// The lease clock: the current time in milliseconds since the Unix epoch.
    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func grant(ttl: Int64, id requested: Int64) async throws -> Lease {
        guard ttl > 0, ttl <= Self.maxTTL else { throw KineError.invalidArgument("lease TTL must be between 1 and \(Self.maxTTL) seconds") }
        guard requested >= 0 else { throw KineError.invalidArgument("lease ID must not be negative") }
        for _ in 0..<8 {
            let id = requested != 0 ? requested : Int64.random(in: 1...Int64.max)
            let lease = Lease(id: id, ttl: ttl, expiresAt: Self.now() + ttl * 1000)
            do {
                try await db.write { c in
                    try await c.execute(KineSQL.insertLease, [.integer(lease.id), .integer(lease.ttl), .integer(lease.expiresAt)])
                }
                return lease
            } catch StorageError.constraintViolation {
                if requested != 0 { throw KineError.leaseExists(id: requested) }
            }
        }
        throw KineError.invalidArgument("could not choose a free lease ID")
    }

    /// Renews a lease for its full TTL; returns it with its new expiry.
    func keepAlive(_ id: Int64) async throws -> Lease {
        try await db.write { c in
            guard let row = try await c.queryFirst(KineSQL.lease, [.integer(id)]) else { throw KineError.leaseNotFound(id: id) }
            let lease = Lease(id: id, ttl: row.int(1), expiresAt: Self.now() + row.int(1) * 1000)
            try await c.execute(KineSQL.renewLease, [.integer(lease.expiresAt), .integer(id)])
            return lease
        }
    }

    /// Deletes the lease's keys (one revision each) and the lease; returns the revision.
    func revoke(_ id: Int64) async throws -> Int64 {
        try await committer.submit(.revokeLease(id: id, expiredBy: nil)).revision
    }

    func lease(_ id: Int64) async throws -> Lease {
        try await db.read { c in
            guard let row = try await c.queryFirst(KineSQL.lease, [.integer(id)]) else { throw KineError.leaseNotFound(id: id) }
            return Lease(id: row.int(0), ttl: row.int(1), expiresAt: row.int(2))
        }
    }

    /// The keys attached to a lease.
    func keys(_ id: Int64) async throws -> [[UInt8]] {
        try await db.read { c in
            try await c.query(KineSQL.keysOfLease, [.integer(id)]).map { KineRow($0).name }
        }
    }

    func all() async throws -> [Lease] {
        try await db.read { c in
            try await c.query(KineSQL.allLeases).map { Lease(id: $0.int(0), ttl: $0.int(1), expiresAt: $0.int(2)) }
        }
    }

    /// Gives every lease at least its full TTL from now: time the server was down does not count.
    func refreshAll() async throws {
        try await db.write { c in try await c.execute(KineSQL.refreshLeases, [.integer(Self.now())]) }
    }

    /// Revokes every lease that has expired; returns how many.
    @discardableResult
    func revokeExpired() async throws -> Int {
        let now = Self.now()
        let expired = try await db.read { c in
            try await c.query(KineSQL.expiredLeases, [.integer(now)]).map { $0.int(0) }
        }
        var revoked = 0
        for id in expired {
            do {
                _ = try await committer.submit(.revokeLease(id: id, expiredBy: now))
                revoked += 1
            } catch KineError.leaseNotFound {
                // Revoked meanwhile by someone else: nothing to do.
            }
        }
        return revoked
    }
}
