import Foundation

/// Accepts service account tokens this cluster signed, for the API's audiences, while the
/// service account (and the object the token is bound to) still exists with the uid the
/// token names. The user is `system:serviceaccount:NAMESPACE:NAME` in the groups
/// `system:serviceaccounts` and `system:serviceaccounts:NAMESPACE`.
///
/// Nothing here reads the store per request: a token's signature is checked once and
/// remembered (``VerifiedTokenCache``), and whether its account and bound object exist comes
/// from watched indexes (``TokenObjects``).
public struct ServiceAccountTokenAuthenticator: Authenticator {
    let tokens: ServiceAccountTokens
    let objects: TokenObjects
    let cache: VerifiedTokenCache

    public init(tokens: ServiceAccountTokens, objects: TokenObjects, cache: VerifiedTokenCache = VerifiedTokenCache()) {
        self.tokens = tokens
        self.objects = objects
        self.cache = cache
    }

    public func authenticate(_ request: HTTPRequest) async -> AuthenticationResult {
        guard let token = request.bearerToken else { return .noCredential }
        do {
            switch try await review(token, audiences: ServiceAccountTokens.apiAudiences) {
            case nil: return .noCredential
            case .success(let user)?: return .authenticated(user)
            case .failure(let error)?: return .rejected("\(error)")
            }
        } catch {
            return .unavailable("the service account could not be read: \(error)")
        }
    }

    /// The user a token authenticates for `audiences`; `nil` when it is not a service
    /// account token of this cluster. Throws when the store cannot say whether the service
    /// account (or the bound object) still exists.
    func review(_ token: String, audiences: [String]) async throws -> Result<UserInfo, ServiceAccountTokens.TokenError>? {
        let tokens = self.tokens
        guard let decoded = cache.claims(of: token, decode: { tokens.decode($0) }) else { return nil }
        let claims: ServiceAccountTokens.Claims
        switch decoded.flatMap({ $0.valid(for: audiences, now: Date()) }) {
        case .failure(let error): return .failure(error)
        case .success(let c): claims = c
        }
        let account = RegistryKey(group: "", resource: "serviceaccounts", namespace: claims.namespace, name: claims.name).path
        guard try await objects.serviceAccounts.contains(account, uid: claims.uid) else {
            return .failure(.invalid("service account \(claims.namespace)/\(claims.name) has been deleted"))
        }
        if let bound = claims.boundObject {
            switch try await objects.boundObjectExists(kind: bound.kind, namespace: claims.namespace, name: bound.name, uid: bound.uid) {
            case true?: break
            case false?: return .failure(.invalid("the \(bound.kind.lowercased()) the token is bound to has been deleted"))
            case nil: return .failure(.invalid("malformed claims"))
            }
        }
        var extra: [String: [String]] = ["authentication.kubernetes.io/credential-id": ["JTI=\(claims.tokenID)"]]
        if let bound = claims.boundObject, bound.kind == "Pod" {
            extra["authentication.kubernetes.io/pod-name"] = [bound.name]
            extra["authentication.kubernetes.io/pod-uid"] = [bound.uid]
        }
        return .success(UserInfo(name: "system:serviceaccount:\(claims.namespace):\(claims.name)", uid: claims.uid,
                                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(claims.namespace)"], extra: extra))
    }
}
