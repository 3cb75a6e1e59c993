import NIOSSL
import Synchronization

/// TLS client contexts that verify the server against a caBundle (the system roots when
/// nil), one per distinct caBundle (at most 64 kept), each presenting the given client
/// certificate when there is one: for webhooks (none) and aggregated API servers (the front
/// proxy's).
final class VerifyingTLSContexts: Sendable {
    static let limit = 64
    private let cache = Mutex<[String: NIOSSLContext]>([:])
    private let certificateChain: [NIOSSLCertificateSource]
    private let privateKey: NIOSSLPrivateKeySource?

    init(certificateChain: [NIOSSLCertificateSource] = [], privateKey: NIOSSLPrivateKeySource? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    func context(caBundle: String?) throws -> NIOSSLContext {
        let key = caBundle ?? ""
        if let known = cache.withLock({ $0[key] }) { return known }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = certificateChain
        configuration.privateKey = privateKey
        configuration.certificateVerification = .fullVerification
        configuration.applicationProtocols = ["http/1.1"]
        if let caBundle {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caBundle.utf8)))
        }
        let context = try NIOSSLContext(configuration: configuration)
        cache.withLock { cache in
            if cache.count >= Self.limit { cache.removeAll() }
            cache[key] = context
        }
        return context
    }
}
