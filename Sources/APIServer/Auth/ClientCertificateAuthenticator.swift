import Synchronization
import SwiftASN1
import X509

/// Users from client certificates that the TLS layer verified against the cluster CA:
/// the common name is the user, each organization a group. A connection presents the same
/// certificate on every request, so each certificate is parsed once and remembered.
public struct ClientCertificateAuthenticator: Authenticator {
    private final class Cache: Sendable {
        let users = Mutex<[[UInt8]: AuthenticationResult]>([:])
        static let limit = 1024
    }

    private let cache = Cache()

    public init() {}

    public func authenticate(_ request: HTTPRequest) async -> AuthenticationResult {
        guard let der = request.clientCertificate else { return .noCredential }
        if let known = cache.users.withLock({ $0[der] }) { return known }
        let result = Self.read(der)
        cache.users.withLock { users in
            if users.count >= Cache.limit { users.removeAll() }
            users[der] = result
        }
        return result
    }

    static func read(_ der: [UInt8]) -> AuthenticationResult {
        guard let certificate = try? Certificate(derEncoded: der) else { return .rejected("unreadable client certificate") }
        var user = ""
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                guard let value = String(attribute.value) else { continue }
                if attribute.type == .RDNAttributeType.commonName { user = value }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(value) }
            }
        }
        guard !user.isEmpty else { return .rejected("client certificate has no common name") }
        return .authenticated(UserInfo(name: user, groups: groups))
    }
}
