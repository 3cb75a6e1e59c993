import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The cluster's transport security: a CA shared by every member (made by the node that
/// bootstraps, handed to joiners) and one certificate per node that serves both ends of
/// mutual TLS. Members and clients accept only peers whose certificate the CA signed.
public struct ClusterCertificates: Sendable {
    public let paths: ClusterPaths

    public init(paths: ClusterPaths) { self.paths = paths }

    /// Makes the cluster CA (at bootstrap).
    public func createAuthority() throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("skiff-cluster-ca") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(20 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        try ClusterFile.write(Data(key.pemRepresentation.utf8), to: paths.caKey, mode: 0o600)
        try ClusterFile.write(Data(try certificate.serializeAsPEM().pemString.utf8), to: paths.caCertificate, mode: 0o644)
    }

    /// Issues this node's certificate (CN = node ID), signed by the cluster CA, unless a
    /// valid one exists.
    public func ensureNodeCertificate(id: UInt64) throws {
        if let existing = try? Certificate(pemEncoded: String(contentsOfFile: paths.nodeCertificate, encoding: .utf8)),
           existing.notValidAfter.timeIntervalSinceNow > 30 * 86400,
           FileManager.default.fileExists(atPath: paths.nodeKey) { return }
        let caCertificate = try Certificate(pemEncoded: String(contentsOfFile: paths.caCertificate, encoding: .utf8))
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: paths.caKey, encoding: .utf8))
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(5 * 365 * 86400),
            issuer: caCertificate.subject, subject: try DistinguishedName { CommonName("skiff-node-\(id)") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
            },
            issuerPrivateKey: .init(caKey))
        try ClusterFile.write(Data(key.pemRepresentation.utf8), to: paths.nodeKey, mode: 0o600)
        try ClusterFile.write(Data(try certificate.serializeAsPEM().pemString.utf8), to: paths.nodeCertificate, mode: 0o644)
    }

    /// The CA certificate's DER bytes (what a token's hash is computed over).
    public func authorityDER() throws -> [UInt8] {
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: paths.caCertificate, encoding: .utf8))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// TLS for dialling members: this node's certificate, members checked against the CA.
    public func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(paths.nodeCertificate).map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: paths.nodeKey, format: .pem))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(paths.caCertificate))
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }

    /// TLS for the node's cluster port. Client certificates are checked against the CA
    /// when presented; a connection without one may only ask to join.
    public func serverContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(paths.nodeCertificate) + NIOSSLCertificate.fromPEMFile(paths.caCertificate)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: paths.nodeKey, format: .pem)))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(paths.caCertificate))
        configuration.certificateVerification = .optionalVerification
        return try NIOSSLContext(configuration: configuration)
    }
}
