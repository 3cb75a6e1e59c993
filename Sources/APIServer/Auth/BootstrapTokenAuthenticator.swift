import Foundation

/// Bootstrap tokens (kube-apiserver's `--enable-bootstrap-token-auth`): a bearer token
/// `ID.SECRET` (6 and 16 characters of `[a-z0-9]`) is checked against the Secret
/// `kube-system/bootstrap-token-ID` of type `bootstrap.kubernetes.io/token`, whose
/// `token-secret` must match, whose `usage-bootstrap-authentication` is `true`, and whose
/// `expiration` (RFC 3339), if any, has not passed. The user is `system:bootstrap:ID` in
/// `system:bootstrappers` and the Secret's `auth-extra-groups` (each
/// `system:bootstrappers:…`). A kubelet joins with one: it may ask for its client
/// certificate (a CertificateSigningRequest) and nothing more.
public struct BootstrapTokenAuthenticator: Authenticator {
    static let secretType = "bootstrap.kubernetes.io/token"
    static let group = "system:bootstrappers"

    /// Where the bootstrap tokens' Secrets are stored.
    static let secretPrefix = RegistryKey(group: "", resource: "secrets", namespace: "kube-system", name: "bootstrap-token-").path

    /// The Secrets under ``secretPrefix``, followed in memory.
    let secrets: WatchedObjects

    public init(secrets: WatchedObjects) { self.secrets = secrets }

    public func authenticate(_ request: HTTPRequest) async -> AuthenticationResult {
        guard let token = request.bearerToken, let (id, secret) = Self.parse(token) else { return .noCredential }
        let key = Self.secretPrefix + id
        let first = Self.check(secrets.snapshot.objects[key], id: id, secret: secret)
        if case .authenticated = first { return first }
        // A refusal is decided once every change committed before the request is in.
        do {
            guard try await secrets.caughtUp() else { return .unavailable("the watch of the bootstrap tokens' Secrets is behind the store") }
        } catch {
            return .unavailable("the bootstrap token's Secret could not be read: \(error)")
        }
        return Self.check(secrets.snapshot.objects[key], id: id, secret: secret)
    }

    /// What the Secret (if any) says of the token `id.secret`.
    static func check(_ object: JSON?, id: String, secret: String) -> AuthenticationResult {
        guard let object, object["type"]?.stringValue == Self.secretType,
              object[path: ["metadata", "deletionTimestamp"]] == nil else { return .rejected("invalid bootstrap token") }
        func field(_ name: String) -> String? {
            guard let encoded = object[path: ["data", name]]?.stringValue, let data = Data(base64Encoded: encoded) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        guard field("token-id") == id, let expected = field("token-secret"), Self.equal(expected, secret),
              field("usage-bootstrap-authentication") == "true" else { return .rejected("invalid bootstrap token") }
        if let expiration = field("expiration") {
            guard let date = RFC3339.parse(expiration), date > Date() else { return .rejected("expired bootstrap token") }
        }
        var groups = [Self.group]
        for extra in (field("auth-extra-groups") ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !extra.isEmpty {
            guard extra.hasPrefix(Self.group + ":") else { return .rejected("invalid bootstrap token") }
            if !groups.contains(extra) { groups.append(extra) }
        }
        return .authenticated(UserInfo(name: "system:bootstrap:" + id, groups: groups))
    }

    /// The token's id and secret, if it has the bootstrap token's form.
    static func parse(_ token: String) -> (id: String, secret: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 6, parts[1].utf8.count == 16,
              token.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e }) else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// Compares in time that does not depend on where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
