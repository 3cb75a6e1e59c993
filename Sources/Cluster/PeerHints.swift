import Foundation
import Logging
import NIOCore
import NIOPosix
import Storage
import Synchronization

/// Commit hints between the members of a cluster: UDP datagrams on each member's cluster
/// address (the IP and port number of its `--cluster-listen`, in UDP rather than TCP).
///
/// A member that committed sends every other member the 8 bytes `SKIFFREV` and the revision
/// (big-endian Int64); a member that hears one reads the new changes from the database at
/// once, instead of at its next poll. A hint carries no data and grants nothing, so a
/// forged, lost or repeated datagram only costs or saves one read; anything else that
/// arrives on the port is ignored. Hints heard faster than they are consumed are merged:
/// only the newest waits.
public final class PeerHints: Sendable {
    static let magic = Array("SKIFFREV".utf8)
    static let datagramSize = 16

    private let channel: any Channel
    private let own: String
    private let paths: ClusterPaths
    private let peers: Mutex<[SocketAddress]>
    private let heardStream: AsyncStream<Int64>

    private init(channel: any Channel, own: String, paths: ClusterPaths, heard: AsyncStream<Int64>) {
        self.channel = channel
        self.own = own
        self.paths = paths
        self.peers = Mutex([])
        self.heardStream = heard
    }

    /// Listens on this member's cluster address (UDP) and learns the other members from
    /// the member list in `paths`.
    public static func start(paths: ClusterPaths, identity: ClusterIdentity, logger: Logger,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> PeerHints {
        let (host, port) = try DqliteAddress.split(identity.address)
        let (heard, continuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HintReceiver(continuation: continuation))
                }
            }
            .bind(host: host, port: port).get()
        let hints = PeerHints(channel: channel, own: identity.address, paths: paths, heard: heard)
        hints.refreshPeers()
        logger.debug("commit hints listening", metadata: ["address": "\(identity.address)/udp"])
        return hints
    }

    /// Tells every other member that this one committed up to `revision`. Never blocks.
    public func announce(_ revision: Int64) {
        let targets = peers.withLock { $0 }
        guard !targets.isEmpty else { return }
        var buffer = channel.allocator.buffer(capacity: Self.datagramSize)
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(revision, endianness: .big)
        for target in targets {
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer), promise: nil)
        }
    }

    /// The revisions other members announce (only the newest waits when they come faster
    /// than they are read). Ends when the hints are closed.
    public var heard: AsyncStream<Int64> { heardStream }

    /// Reads the member list again (members join, leave and are replaced over time).
    public func refreshPeers() {
        let addresses = ClusterMembers.load(paths).filter { $0 != own }.compactMap { address -> SocketAddress? in
            guard let (host, port) = try? DqliteAddress.split(address) else { return nil }
            return try? SocketAddress(ipAddress: host, port: port)
        }
        peers.withLock { $0 = addresses }
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Turns well-formed hint datagrams into revisions; drops everything else.
private final class HintReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let continuation: AsyncStream<Int64>.Continuation

    init(continuation: AsyncStream<Int64>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data).data
        guard bytes.readableBytes == PeerHints.datagramSize,
              bytes.readBytes(length: PeerHints.magic.count) == PeerHints.magic,
              let revision = bytes.readInteger(endianness: .big, as: Int64.self), revision > 0 else { return }
        continuation.yield(revision)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket's errors (e.g. ICMP port unreachable from a member that is
        // down) concern one hint; the socket stays open.
    }
}
