import NIOSSL
import Synchronization

/// The TLS contexts the aggregator dials aggregated API servers with: each presents the
/// front proxy's client certificate, and verifies the server against its APIService's
/// caBundle (or not at all, with `insecureSkipTLSVerify`, and for availability checks, as
/// kube-aggregator's are).
final class FrontProxyTLS: Sendable {
    private let certificateChain: [NIOSSLCertificateSource]
    private let privateKey: NIOSSLPrivateKeySource
    private let cache = Mutex<[String: NIOSSLContext]>([:])
    /// The context for availability checks: the client certificate, no server verification.
    let unverified: NIOSSLContext

    init(certificatePEM: String, keyPEM: String) throws {
        certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
        privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = certificateChain
        configuration.privateKey = privateKey
        configuration.certificateVerification = .none
        configuration.applicationProtocols = ["http/1.1"]
        unverified = try NIOSSLContext(configuration: configuration)
    }

    /// The context for proxying to `service`.
    func context(for service: AggregatedAPIService) throws -> NIOSSLContext {
        if service.insecureSkipTLSVerify { return unverified }
        let key = service.caBundle ?? ""
        if let known = cache.withLock({ $0[key] }) { return known }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = certificateChain
        configuration.privateKey = privateKey
        configuration.certificateVerification = .fullVerification
        configuration.applicationProtocols = ["http/1.1"]
        if let caBundle = service.caBundle {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caBundle.utf8)))
        }
        let context = try NIOSSLContext(configuration: configuration)
        cache.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[key] = context
        }
        return context
    }
}
