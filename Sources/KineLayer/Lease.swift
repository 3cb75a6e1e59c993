/// A lease: keys attached to it are deleted when it expires or is revoked.
public struct Lease: Sendable, Hashable {
    /// The lease's ID (never 0).
    public var id: Int64
    /// The time-to-live it was granted with, in seconds.
    public var ttl: Int64
    /// When it expires, in milliseconds since the Unix epoch.
    public var expiresAt: Int64

    public init(id: Int64, ttl: Int64, expiresAt: Int64) {
        self.id = id
        self.ttl = ttl
        self.expiresAt = expiresAt
    }

    /// Seconds left before expiry at `now` (milliseconds since the epoch, the lease clock
    /// by default), rounded up; -1 once expired.
    public func remainingSeconds(at now: Int64 = LeaseManager.now()) -> Int64 {
        let left = expiresAt - now
        return left <= 0 ? -1 : (left + 999) / 1000
    }
}
