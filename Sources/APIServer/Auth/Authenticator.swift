import Foundation

/// What an authenticator concluded about a request.
public enum AuthenticationResult: Sendable {
    /// The request carries a valid credential of this user.
    case authenticated(UserInfo)
    /// The request carries no credential of the kind this authenticator reads.
    case noCredential
    /// The request carries a credential of this kind that is not valid.
    case rejected(String)
    /// The credential could not be checked now (the store it is checked against failed): the
    /// request gets a 503, not a 401 that would tell the client its credential is bad.
    case unavailable(String)
}

/// One way of proving who a client is (a strategy; the server tries them in order).
public protocol Authenticator: Sendable {
    func authenticate(_ request: HTTPRequest) async -> AuthenticationResult
}

/// Tries authenticators in order: the first that accepts a credential decides; a credential
/// that none accepts and one rejects is rejected.
public struct AuthenticatorChain: Authenticator {
    public var authenticators: [any Authenticator]

    public init(_ authenticators: [any Authenticator]) { self.authenticators = authenticators }

    public func authenticate(_ request: HTTPRequest) async -> AuthenticationResult {
        var rejection: String?
        var unavailable: String?
        for authenticator in authenticators {
            switch await authenticator.authenticate(request) {
            case .noCredential: continue
            case .authenticated(let user): return .authenticated(user.authenticated())
            case .rejected(let why): rejection = rejection ?? why
            case .unavailable(let why): unavailable = unavailable ?? why
            }
        }
        if let unavailable { return .unavailable(unavailable) }
        return rejection.map { .rejected($0) } ?? .noCredential
    }
}

extension HTTPRequest {
    /// The bearer token of the `Authorization` header.
    var bearerToken: String? {
        guard let header = headers.first(name: "authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
