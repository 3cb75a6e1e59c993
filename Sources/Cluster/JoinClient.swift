import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Storage
import SwiftASN1
import X509

/// The joining side: asks a member (at its cluster address) to let this node in.
///
/// The member's certificate chain must contain the CA whose hash the token names, and the
/// member's certificate must be signed by it, before the token's secret is sent.
struct JoinClient {
    let token: ClusterToken

    func join(through member: String, request: JoinRequest, timeout: TimeAmount = .seconds(20)) async throws -> JoinResponse {
        let (host, port) = try DqliteAddress.split(member)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let expected = token.caHash
        let collected = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: ByteBuffer.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let ops = channel.pipeline.syncOperations
                        try ops.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil) { chain, promise in
                            promise.succeed(Self.chainIsSigned(chain, byCAWithHash: expected) ? .certificateVerified : .failed)
                        })
                        try ops.addHandler(CollectingHandler(done: collected))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw ClusterError.joinRefused("cannot reach \(member): \(error)")
        }
        var line = try JSONEncoder().encode(request)
        line.append(UInt8(ascii: "\n"))
        try await channel.writeAndFlush(ByteBuffer(bytes: line)).get()
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { timer.cancel() }
        let answer: ByteBuffer
        do {
            answer = try await collected.futureResult.get()
        } catch {
            throw ClusterError.joinRefused("\(member) did not answer (\(error)); is the token for this cluster?")
        }
        guard answer.readableBytes > 0 else {
            throw ClusterError.joinRefused("\(member) closed the connection: its certificate does not match the token's CA, or it is not a Skiff cluster port")
        }
        return try JSONDecoder().decode(JoinResponse.self, from: Data(answer.readableBytesView))
    }

    /// Whether some certificate in `chain` has the given SHA-256 and signed the first one.
    static func chainIsSigned(_ chain: [NIOSSLCertificate], byCAWithHash hash: String) -> Bool {
        guard let leafDER = try? chain.first?.toDERBytes(), let leaf = try? Certificate(derEncoded: leafDER) else { return false }
        for candidate in chain {
            guard let der = try? candidate.toDERBytes(), ClusterToken.hash(der) == hash,
                  let ca = try? Certificate(derEncoded: der) else { continue }
            if ca.publicKey.isValidSignature(leaf.signature, for: leaf) { return true }
        }
        return false
    }

}

/// Gathers everything read until the connection closes.
private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var data = ByteBuffer()
    private let done: EventLoopPromise<ByteBuffer>

    init(done: EventLoopPromise<ByteBuffer>) { self.done = done }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        self.data.writeBuffer(&chunk)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(data)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
