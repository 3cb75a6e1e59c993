import Crypto
import Foundation
import Synchronization

/// What checking a service account token's signature and reading its claims concluded,
/// remembered by the token's SHA-256 (the token itself is not kept): a client sends the same
/// token on every request, and an ECDSA verification costs more than the rest of a GET.
/// A good token is remembered until it expires, a bad one for ``rejectionLifetime``. Time
/// and audiences are checked at each use; whether the account still exists is not this
/// cache's concern (``ServiceAccountTokenAuthenticator`` asks its watched index).
public final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var claims: Result<ServiceAccountTokens.Claims, ServiceAccountTokens.TokenError>
        var until: Date
    }

    /// How long a token that failed its check is remembered as failed.
    static let rejectionLifetime: TimeInterval = 10
    /// The most tokens remembered; past it, expired entries go, and then all of them.
    let capacity: Int
    private let entries = Mutex<[SHA256.Digest: Entry]>([:])

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// How many tokens are remembered.
    public var count: Int { entries.withLock { $0.count } }

    /// The decoded claims of `token`, from memory when it was seen before, else from
    /// `decode` (which is then remembered). `nil` (not remembered) for a token that is not a
    /// service account token of this cluster.
    func claims(of token: String, now: Date = Date(),
                decode: (String) -> Result<ServiceAccountTokens.Claims, ServiceAccountTokens.TokenError>?)
        -> Result<ServiceAccountTokens.Claims, ServiceAccountTokens.TokenError>? {
        let digest = SHA256.hash(data: Data(token.utf8))
        if let known = entries.withLock({ $0[digest] }), known.until > now { return known.claims }
        guard let decoded = decode(token) else { return nil }
        let until: Date
        switch decoded {
        case .success(let claims): until = claims.expires
        case .failure: until = now.addingTimeInterval(Self.rejectionLifetime)
        }
        guard until > now else { return decoded }
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.until > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[digest] = Entry(claims: decoded, until: until)
        }
        return decoded
    }
}
