import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificates, kept in `DATA_DIR/pki`: a CA, the API server's serving
/// certificate, the admin client certificate (CN=admin, O=system:masters), and the front
/// proxy's CA and client certificate (CN=front-proxy-client), which the server presents to
/// aggregated API servers. Made on first
/// start; the serving certificate is made again when a name or address it must carry is
/// missing or it is about to expire. Private keys are written with mode 0600.
public struct ClusterPKI: Sendable {
    /// The folder holding the PEM files.
    public let directory: String

    /// The PKI in `directory`, as it is (see ``ensure(dataDirectory:subjectAlternativeNames:)``).
    public init(directory: String) { self.directory = directory }

    public var caCertificatePath: String { directory + "/ca.crt" }
    public var caKeyPath: String { directory + "/ca.key" }
    public var serverCertificatePath: String { directory + "/server.crt" }
    public var serverKeyPath: String { directory + "/server.key" }
    public var adminCertificatePath: String { directory + "/admin.crt" }
    public var adminKeyPath: String { directory + "/admin.key" }
    /// The CA aggregated API servers trust for the front proxy's identity headers
    /// (kube-apiserver's `--requestheader-client-ca-file`), and its key.
    public var frontProxyCACertificatePath: String { directory + "/front-proxy-ca.crt" }
    public var frontProxyCAKeyPath: String { directory + "/front-proxy-ca.key" }
    /// The certificate the server presents when it proxies to an aggregated API server
    /// (kube-apiserver's `--proxy-client-cert-file`), and its key.
    public var frontProxyClientCertificatePath: String { directory + "/front-proxy-client.crt" }
    public var frontProxyClientKeyPath: String { directory + "/front-proxy-client.key" }
    /// The common name of the front proxy's client certificate, the one name aggregated API
    /// servers are told to accept (`requestheader-allowed-names`).
    public static let frontProxyClientName = "front-proxy-client"
    /// The key service account tokens are signed with (P-256, ES256).
    public var serviceAccountKeyPath: String { directory + "/sa.key" }

    /// How long certificates that Skiff issues stay valid.
    static let leafLifetime: TimeInterval = 365 * 24 * 3600
    static let caLifetime: TimeInterval = 10 * 365 * 24 * 3600
    /// A leaf certificate closer than this to its end is renewed at start.
    static let renewBefore: TimeInterval = 30 * 24 * 3600

    /// Opens the PKI in `dataDirectory/pki`, creating what is missing. `subjectAlternativeNames`
    /// are host names and IP addresses the serving certificate must carry.
    public static func ensure(dataDirectory: String, subjectAlternativeNames: [String]) throws -> ClusterPKI {
        let pki = ClusterPKI(directory: dataDirectory + "/pki")
        try FileManager.default.createDirectory(atPath: pki.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let fm = FileManager.default
        if !fm.fileExists(atPath: pki.caCertificatePath) || !fm.fileExists(atPath: pki.caKeyPath) {
            try pki.createCA(name: "skiff-ca", certificatePath: pki.caCertificatePath, keyPath: pki.caKeyPath)
        }
        if !fm.fileExists(atPath: pki.frontProxyCACertificatePath) || !fm.fileExists(atPath: pki.frontProxyCAKeyPath) {
            try pki.createCA(name: "skiff-front-proxy-ca", certificatePath: pki.frontProxyCACertificatePath, keyPath: pki.frontProxyCAKeyPath)
        }
        if !fm.fileExists(atPath: pki.serviceAccountKeyPath) {
            try pki.write(P256.Signing.PrivateKey().pemRepresentation, to: pki.serviceAccountKeyPath, mode: 0o600)
        }
        let ca = try pki.loadCA()
        if try pki.needsServerCertificate(names: subjectAlternativeNames) {
            try pki.issue(to: pki.serverCertificatePath, keyPath: pki.serverKeyPath, ca: ca,
                          subject: try DistinguishedName { CommonName("skiff") },
                          usage: .serverAuth, names: subjectAlternativeNames)
        }
        if try pki.needsRenewal(pki.adminCertificatePath) {
            try pki.issue(to: pki.adminCertificatePath, keyPath: pki.adminKeyPath, ca: ca,
                          subject: try DistinguishedName { OrganizationName("system:masters"); CommonName("admin") },
                          usage: .clientAuth, names: [])
        }
        // A member that joined a cluster has the cluster's front-proxy CA, not the one its
        // client certificate was issued by.
        let frontProxyCA = try pki.loadCA(certificatePath: pki.frontProxyCACertificatePath, keyPath: pki.frontProxyCAKeyPath)
        if try pki.needsRenewal(pki.frontProxyClientCertificatePath) || !pki.isIssued(pki.frontProxyClientCertificatePath, by: frontProxyCA) {
            try pki.issue(to: pki.frontProxyClientCertificatePath, keyPath: pki.frontProxyClientKeyPath, ca: frontProxyCA,
                          subject: try DistinguishedName { CommonName(Self.frontProxyClientName) },
                          usage: .clientAuth, names: [])
        }
        return pki
    }

    /// Issues a client certificate signed by the cluster CA for `user` in `groups`, as PEM
    /// (certificate, private key).
    public func issueClientCertificate(user: String, groups: [String]) throws -> (certificate: String, key: String) {
        let ca = try loadCA()
        let subject = try DistinguishedName {
            for group in groups { OrganizationName(group) }
            CommonName(user)
        }
        let key = P256.Signing.PrivateKey()
        let certificate = try makeLeaf(key: key, ca: ca, subject: subject, usage: .clientAuth, names: [])
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    // MARK: Making certificates

    private enum Usage { case serverAuth, clientAuth }

    private func createCA(name commonName: String, certificatePath: String, keyPath: String) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Self.caLifetime),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        try write(key.pemRepresentation, to: keyPath, mode: 0o600)
        try write(try certificate.serializeAsPEM().pemString, to: certificatePath, mode: 0o644)
    }

    private struct CA {
        var certificate: Certificate
        var key: P256.Signing.PrivateKey
    }

    private func loadCA() throws -> CA { try loadCA(certificatePath: caCertificatePath, keyPath: caKeyPath) }

    private func loadCA(certificatePath: String, keyPath: String) throws -> CA {
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: certificatePath, encoding: .utf8))
        let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
        return CA(certificate: certificate, key: key)
    }

    private func issue(to path: String, keyPath: String, ca: CA, subject: DistinguishedName, usage: Usage,
                       names: [String]) throws {
        let key = P256.Signing.PrivateKey()
        let certificate = try makeLeaf(key: key, ca: ca, subject: subject, usage: usage, names: names)
        try write(key.pemRepresentation, to: keyPath, mode: 0o600)
        try write(try certificate.serializeAsPEM().pemString, to: path, mode: 0o644)
    }

    private func makeLeaf(key: P256.Signing.PrivateKey, ca: CA, subject: DistinguishedName, usage: Usage,
                          names: [String]) throws -> Certificate {
        let now = Date()
        let alternativeNames = names.map { name -> GeneralName in
            if let address = IPAddressBytes(name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes))) }
            return .dnsName(name)
        }
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Self.leafLifetime),
            issuer: ca.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([usage == .serverAuth ? .serverAuth : .clientAuth])
                if !alternativeNames.isEmpty { SubjectAlternativeNames(alternativeNames) }
                AuthorityKeyIdentifier(keyIdentifier: try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(ca.key))
    }

    // MARK: Checking what exists

    private func needsRenewal(_ path: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return true }
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        return certificate.notValidAfter.timeIntervalSinceNow < Self.renewBefore
    }

    /// Whether the certificate at `path` names `ca`'s key as its issuer's.
    private func isIssued(_ path: String, by ca: CA) throws -> Bool {
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        guard let issuerKey = try certificate.extensions.authorityKeyIdentifier?.keyIdentifier,
              let caKey = try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier else { return false }
        return issuerKey == caKey && certificate.issuer == ca.certificate.subject
    }

    private func needsServerCertificate(names: [String]) throws -> Bool {
        if try needsRenewal(serverCertificatePath) { return true }
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: serverCertificatePath, encoding: .utf8))
        let present = Set((try certificate.extensions.subjectAlternativeNames ?? SubjectAlternativeNames()).map { name -> String in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let octets): return IPAddressBytes.text(Array(octets.bytes))
            default: return ""
            }
        })
        return !Set(names.map { IPAddressBytes($0).map { IPAddressBytes.text($0.bytes) } ?? $0 }).isSubset(of: present)
    }

    private func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
