import NIOSSL

/// The TLS contexts the aggregator dials aggregated API servers with: each presents the
/// front proxy's client certificate, and verifies the server against its APIService's
/// caBundle (or not at all, with `insecureSkipTLSVerify`, and for availability checks, as
/// kube-aggregator's are).
final class FrontProxyTLS: Sendable {
    private let verifying: VerifyingTLSContexts
    /// The context for availability checks: the client certificate, no server verification.
    let unverified: NIOSSLContext

    init(certificatePEM: String, keyPEM: String) throws {
        let certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let privateKey = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        verifying = VerifyingTLSContexts(certificateChain: certificateChain, privateKey: privateKey)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = certificateChain
        configuration.privateKey = privateKey
        configuration.certificateVerification = .none
        configuration.applicationProtocols = ["http/1.1"]
        unverified = try NIOSSLContext(configuration: configuration)
    }

    /// The context for proxying to `service`.
    func context(for service: AggregatedAPIService) throws -> NIOSSLContext {
        service.insecureSkipTLSVerify ? unverified : try verifying.context(caBundle: service.caBundle)
    }
}
