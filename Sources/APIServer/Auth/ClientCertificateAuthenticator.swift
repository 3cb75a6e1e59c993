import SwiftASN1
import X509

/// Users from client certificates that the TLS layer verified against the cluster CA:
/// the common name is the user, each organization a group.
public struct ClientCertificateAuthenticator: Authenticator {
    public init() {}

    public func authenticate(_ request: HTTPRequest) -> AuthenticationResult {
        guard let der = request.clientCertificate else { return .noCredential }
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
