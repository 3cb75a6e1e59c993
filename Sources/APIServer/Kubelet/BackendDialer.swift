import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Dials the connections the server makes for a client: to a kubelet over TLS with the
/// server's kubelet-client certificate (logs, exec, attach, port forwarding, node proxy), and
/// to pods and services (their proxies), over plain TCP or TLS. As kube-apiserver does when no
/// `--kubelet-certificate-authority` is set, a backend's serving certificate is not verified:
/// kubelets serve self-signed ones.
public struct BackendDialer: Sendable {
    /// The TLS context for kubelets: Skiff's kubelet-client certificate, no server verification.
    let kubeletTLS: NIOSSLContext
    /// The TLS context for `https:` pod and service proxy targets: no client certificate.
    let plainTLS: NIOSSLContext
    /// How long a connection may take to open, and its TLS handshake to finish after that.
    public var connectTimeout: TimeAmount = .seconds(10)
    public var handshakeTimeout: TimeAmount = .seconds(10)

    /// A dialler presenting `certificatePEM`/`keyPEM` (issued by the cluster CA) to kubelets.
    public init(certificatePEM: String, keyPEM: String) throws {
        var kubelet = TLSConfiguration.makeClientConfiguration()
        kubelet.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
        kubelet.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        kubelet.certificateVerification = .none
        kubelet.applicationProtocols = ["http/1.1"]
        kubeletTLS = try NIOSSLContext(configuration: kubelet)
        var plain = TLSConfiguration.makeClientConfiguration()
        plain.certificateVerification = .none
        plain.applicationProtocols = ["http/1.1"]
        plainTLS = try NIOSSLContext(configuration: plain)
    }

    /// What a connection speaks below HTTP.
    public enum Transport: Sendable {
        /// TLS with the kubelet-client certificate.
        case kubelet
        /// TLS without a client certificate.
        case tls
        /// Plain TCP.
        case plain
        /// TLS with the server's certificate verified by `context`, for the name `serverName`
        /// (nil: the address dialled, whose IP the certificate must then name).
        case verified(NIOSSLContext, serverName: String?)
    }

    /// Opens a connection; the error names the address as a Go client's dial error would.
    public func dial(host: String, port: Int, transport: Transport) async throws -> ByteStream {
        let context: NIOSSLContext?
        // SNI takes names only.
        let serverName: String?
        switch transport {
        case .kubelet: (context, serverName) = (kubeletTLS, IPAddressBytes(host) == nil ? host : nil)
        case .tls: (context, serverName) = (plainTLS, IPAddressBytes(host) == nil ? host : nil)
        case .plain: (context, serverName) = (nil, nil)
        case .verified(let verifying, let name): (context, serverName) = (verifying, name)
        }
        let attached = NIOLockedValueBox<ByteStream?>(nil)
        let handshake = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)
        let handshakeTimeout = self.handshakeTimeout
        do {
            _ = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let context {
                            let waiter = TLSHandshakeWaiter(promise: channel.eventLoop.makePromise())
                            handshake.withLockedValue { $0 = waiter.promise.futureResult }
                            // A peer that never finishes the handshake is dropped.
                            let expiry = channel.eventLoop.scheduleTask(in: handshakeTimeout) { channel.close(promise: nil) }
                            waiter.promise.futureResult.whenComplete { _ in expiry.cancel() }
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                            try channel.pipeline.syncOperations.addHandler(waiter)
                        }
                        let stream = try ByteStream.attach(to: channel)
                        attached.withLockedValue { $0 = stream }
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw BackendError.dial(address: Self.address(host, port), reason: Self.reason(error))
        }
        guard let stream = attached.withLockedValue({ $0 }) else {
            throw BackendError.dial(address: Self.address(host, port), reason: "the connection closed at once")
        }
        if let handshake = handshake.withLockedValue({ $0 }) {
            do {
                try await handshake.get()
            } catch {
                stream.close()
                throw BackendError.tls(address: Self.address(host, port), reason: "\(error)")
            }
        }
        return stream
    }

    /// A failed connect in a Go client's words ("connect: connection refused").
    static func reason(_ error: any Error) -> String {
        if let failed = error as? NIOConnectionError, let first = failed.connectionErrors.first { return reason(first.error) }
        if let io = error as? IOError { return "connect: " + String(cString: strerror(io.errnoCode)).lowercased() }
        if case ChannelError.connectTimeout? = error as? ChannelError { return "i/o timeout" }
        return "\(error)"
    }

    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why a backend (kubelet, pod, service endpoint) could not be reached or answered badly.
enum BackendError: Error, CustomStringConvertible {
    case dial(address: String, reason: String)
    case tls(address: String, reason: String)
    case malformed(String)

    var description: String {
        switch self {
        case .dial(let address, let reason): "dial tcp \(address): \(reason)"
        case .tls(let address, let reason):
            reason.contains("WRONG_VERSION_NUMBER")
                ? "the TLS handshake with \(address) failed: it does not speak TLS (a plain HTTP server?)"
                : "the TLS handshake with \(address) failed: \(reason)"
        case .malformed(let what): "malformed HTTP response from backend: \(what)"
        }
    }
}

/// Completes its promise when the TLS handshake in front of it has finished, or fails it with
/// the handshake's error (or the connection's end), so that a dialler reports a TLS failure as
/// one rather than as a write on a closed connection.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted {
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    /// A connection that never opened (refused, timed out) closes without going inactive:
    /// the promise must still be completed.
    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
    }
}
