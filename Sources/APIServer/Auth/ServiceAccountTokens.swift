import Crypto
import Foundation

/// Service account tokens: JWTs signed with the cluster's service account key (ES256),
/// bound to audiences, expiring, and naming the service account (and optionally the object
/// they are bound to) by name and uid, so that they stop working when it is deleted.
public struct ServiceAccountTokens: Sendable {
    /// The issuer the tokens name (kube-apiserver's usual `--service-account-issuer`).
    public static let issuer = "https://kubernetes.default.svc.cluster.local"
    /// The audiences the API server accepts tokens for (its `--api-audiences`).
    public static let apiAudiences = [issuer]

    let key: P256.Signing.PrivateKey
    let keyID: String

    public init(keyPEM: String) throws {
        key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        keyID = Self.base64URL(Array(SHA256.hash(data: key.publicKey.derRepresentation)))
    }

    /// What a valid token says.
    public struct Claims: Sendable {
        public var namespace: String
        public var name: String
        public var uid: String
        public var audiences: [String]
        public var expires: Date
        /// The token's `nbf`, if it has one.
        public var notBefore: Date?
        public var tokenID: String
        /// The object the token is bound to: kind, name, uid.
        public var boundObject: (kind: String, name: String, uid: String)?

        /// These claims, if they are valid at `now` for one of `audiences` (a minute of clock
        /// skew allowed before `nbf`).
        func valid(for wanted: [String], now: Date) -> Result<Claims, TokenError> {
            guard now < expires else { return .failure(.invalid("token has expired")) }
            if let notBefore, now.addingTimeInterval(60) < notBefore { return .failure(.invalid("token is not valid yet")) }
            guard !Set(audiences).isDisjoint(with: wanted) else { return .failure(.invalid("token audiences \(audiences) are not accepted")) }
            return .success(self)
        }
    }

    /// A signed token for the service account, valid for `seconds` from now.
    public func issue(namespace: String, name: String, uid: String, audiences: [String], seconds: Int64,
                      boundObject: (kind: String, name: String, uid: String)? = nil) throws -> (token: String, expires: Date) {
        let now = Date()
        let expires = now.addingTimeInterval(Double(seconds))
        var kubernetes: [String: Any] = ["namespace": namespace, "serviceaccount": ["name": name, "uid": uid]]
        if let bound = boundObject {
            kubernetes[bound.kind.lowercased()] = ["name": bound.name, "uid": bound.uid]
        }
        let claims: [String: Any] = [
            "iss": Self.issuer, "sub": "system:serviceaccount:\(namespace):\(name)", "aud": audiences,
            "iat": Int64(now.timeIntervalSince1970), "nbf": Int64(now.timeIntervalSince1970), "exp": Int64(expires.timeIntervalSince1970),
            "jti": UUID().uuidString.lowercased(), "kubernetes.io": kubernetes,
        ]
        let header = try JSONSerialization.data(withJSONObject: ["alg": "ES256", "typ": "JWT", "kid": keyID], options: .sortedKeys)
        let body = try JSONSerialization.data(withJSONObject: claims, options: .sortedKeys)
        let signingInput = Self.base64URL(Array(header)) + "." + Self.base64URL(Array(body))
        let signature = try key.signature(for: Data(signingInput.utf8))
        return (signingInput + "." + Self.base64URL(Array(signature.rawRepresentation)), expires)
    }

    /// The claims of a token this server signed, whatever its time and audiences (the
    /// signature checked, the claims read): what ``VerifiedTokenCache`` keeps. `nil` for a
    /// token that is not one of these.
    public func decode(_ token: String) -> Result<Claims, TokenError>? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.decodeBase64URL(parts[0]),
              let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any],
              header["alg"] as? String == "ES256", header["kid"] as? String == keyID else { return nil }
        guard let signatureBytes = Self.decodeBase64URL(parts[2]),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              key.publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)) else {
            return .failure(.invalid("invalid signature"))
        }
        guard let bodyBytes = Self.decodeBase64URL(parts[1]),
              let claims = try? JSONSerialization.jsonObject(with: bodyBytes) as? [String: Any],
              claims["iss"] as? String == Self.issuer,
              let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp.isFinite,
              let kubernetes = claims["kubernetes.io"] as? [String: Any],
              let namespace = kubernetes["namespace"] as? String,
              let account = kubernetes["serviceaccount"] as? [String: Any],
              let name = account["name"] as? String, let uid = account["uid"] as? String else {
            return .failure(.invalid("malformed claims"))
        }
        let tokenAudiences = (claims["aud"] as? [String]) ?? ((claims["aud"] as? String).map { [$0] } ?? [])
        var bound: (String, String, String)?
        for kind in ["pod", "secret", "node"] {
            if let object = kubernetes[kind] as? [String: Any], let n = object["name"] as? String, let u = object["uid"] as? String {
                bound = (kind == "pod" ? "Pod" : kind == "secret" ? "Secret" : "Node", n, u)
            }
        }
        let notBefore = ((claims["nbf"] as? NSNumber)?.doubleValue).flatMap { $0.isFinite ? Date(timeIntervalSince1970: $0) : nil }
        return .success(Claims(namespace: namespace, name: name, uid: uid, audiences: tokenAudiences,
                               expires: Date(timeIntervalSince1970: exp), notBefore: notBefore,
                               tokenID: claims["jti"] as? String ?? "", boundObject: bound))
    }

    public enum TokenError: Error, Sendable {
        case invalid(String)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: Substring) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
