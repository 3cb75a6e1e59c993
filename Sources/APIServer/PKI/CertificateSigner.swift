import Crypto
import Foundation
import SwiftASN1
import X509

/// Signs the certificate requests of Kubernetes' own signers with the cluster CA, checking
/// what each signer allows (as kube-controller-manager's csrsigning does):
/// - `kubernetes.io/kube-apiserver-client`: client certificates, any subject;
/// - `kubernetes.io/kube-apiserver-client-kubelet`: a kubelet's client certificate, subject
///   `CN=system:node:NAME, O=system:nodes`, no alternative names;
/// - `kubernetes.io/kubelet-serving`: a kubelet's serving certificate, the same subject, with
///   at least one DNS name or IP address and no other kind of alternative name.
/// Usages beyond digital signature, key encipherment and the signer's client or server auth
/// are refused. A certificate lives `expirationSeconds` (at least 10 minutes), at most a year.
public struct CertificateSigner: Sendable {
    public static let apiServerClient = "kubernetes.io/kube-apiserver-client"
    public static let kubeletClient = "kubernetes.io/kube-apiserver-client-kubelet"
    public static let kubeletServing = "kubernetes.io/kubelet-serving"
    public static let signers: Set<String> = [apiServerClient, kubeletClient, kubeletServing]
    static let maximumLifetime: TimeInterval = 365 * 24 * 3600
    static let minimumSeconds = 600

    let caCertificate: Certificate
    let caKey: P256.Signing.PrivateKey

    /// The signer of the cluster CA in `pki`.
    public init(pki: ClusterPKI) throws {
        caCertificate = try Certificate(pemEncoded: String(contentsOfFile: pki.caCertificatePath, encoding: .utf8))
        caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: pki.caKeyPath, encoding: .utf8))
    }

    /// Why a request was not signed (the CSR's `Failed` condition says it).
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// The PEM certificate for a request (`spec.request`'s PEM), or a ``Refusal``.
    public func sign(requestPEM: String, signerName: String, usages: [String], expirationSeconds: Int?,
                     now: Date = Date()) throws -> String {
        guard Self.signers.contains(signerName) else { throw Refusal(description: "signer \(signerName) is not served") }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemEncoded: requestPEM)
        } catch {
            throw Refusal(description: "the request is not a PEM certificate request: \(error)")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw Refusal(description: "the request's signature does not match its public key")
        }
        let names = try request.attributes.extensionRequest?.extensions.subjectAlternativeNames ?? SubjectAlternativeNames()
        let serving = signerName == Self.kubeletServing
        try Self.check(signerName, subject: request.subject, names: names, usages: Set(usages))
        let lifetime = min(TimeInterval(max(expirationSeconds ?? Int(Self.maximumLifetime), Self.minimumSeconds)), Self.maximumLifetime)
        let notAfter = min(now.addingTimeInterval(lifetime), caCertificate.notValidAfter)
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: request.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter,
            issuer: caCertificate.subject, subject: request.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: usages.contains("key encipherment")))
                try ExtendedKeyUsage([serving ? .serverAuth : .clientAuth])
                if serving { names }
                AuthorityKeyIdentifier(keyIdentifier: try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))
        return try certificate.serializeAsPEM().pemString
    }

    /// The signer's rules on subject, alternative names and usages.
    static func check(_ signerName: String, subject: DistinguishedName, names: SubjectAlternativeNames, usages: Set<String>) throws {
        var commonNames: [String] = [], organizations: [String] = []
        for rdn in subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { commonNames.append(attribute.value.description) }
                if attribute.type == .RDNAttributeType.organizationName { organizations.append(attribute.value.description) }
            }
        }
        let authUsage = signerName == kubeletServing ? "server auth" : "client auth"
        let allowed: Set<String> = ["digital signature", "key encipherment", authUsage]
        guard usages.contains(authUsage), usages.isSubset(of: allowed) else {
            throw Refusal(description: "usages must include \"\(authUsage)\" and be among \(allowed.sorted().map { "\"\($0)\"" }.joined(separator: ", ")); got \(usages.sorted())")
        }
        guard signerName != apiServerClient else { return }
        guard organizations == ["system:nodes"] else {
            throw Refusal(description: "the subject's organization must be exactly [\"system:nodes\"]; got \(organizations)")
        }
        guard commonNames.count == 1, commonNames[0].hasPrefix("system:node:"), commonNames[0].count > "system:node:".count else {
            throw Refusal(description: "the subject's common name must be \"system:node:NODE\"; got \(commonNames)")
        }
        var dnsOrIP = 0
        for name in names {
            switch name {
            case .dnsName, .ipAddress: dnsOrIP += 1
            default: throw Refusal(description: "only DNS names and IP addresses may be asked for; got \(name)")
            }
        }
        if signerName == kubeletClient, dnsOrIP > 0 {
            throw Refusal(description: "a kubelet client certificate has no alternative names")
        }
        if signerName == kubeletServing, dnsOrIP == 0 {
            throw Refusal(description: "a kubelet serving certificate needs at least one DNS name or IP address")
        }
    }
}
