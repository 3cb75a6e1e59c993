import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import Storage
import Synchronization

/// Commit announcements between the members of a cluster: UDP datagrams on each member's
/// cluster address (the IP and port number of its `--cluster-listen`, in UDP rather than TCP).
///
/// A member that committed sends every other member two datagrams: the changes themselves
/// (`SKIFFEVT`, the revision, an HMAC-SHA256 of both under a key derived from the cluster
/// token's secret, then the payload), when they fit in one datagram, and a bare hint
/// (`SKIFFREV` and the revision, big-endian Int64). A member that hears the changes hands
/// them to its watches; one that hears only the hint reads the new changes from the
/// database. A hint grants nothing, so a forged, lost or repeated one only costs or saves
/// one read; a payload whose HMAC does not verify, and anything else on the port, is
/// dropped. What is heard faster than it is consumed is dropped oldest first (a member then
/// reads the gap from the database).
public final class PeerHints: Sendable {
    static let magic = Array("SKIFFREV".utf8)
    static let datagramSize = 16
    static let changesMagic = Array("SKIFFEVT".utf8)
    /// Magic, revision, HMAC.
    static let changesHeaderSize = 8 + 8 + 32
    /// The largest datagram sent: UDP's limit over IPv4, less some room.
    static let maxDatagram = 65_000
    /// The largest payload an announcement carries; larger changes go as the hint alone.
    public static let maxPayload = maxDatagram - changesHeaderSize
    /// Announcements held for a slow consumer.
    static let heardBuffer = 64

    /// What another member announced: a revision, and the payload it sent with it if that
    /// carried a valid HMAC.
    public struct Announcement: Sendable, Equatable {
        public var revision: Int64
        public var payload: [UInt8]?

        public init(revision: Int64, payload: [UInt8]? = nil) {
            self.revision = revision
            self.payload = payload
        }
    }

    private let channel: any Channel
    private let own: String
    private let paths: ClusterPaths
    private let key: SymmetricKey?
    private let peers: Mutex<[SocketAddress]>
    private let heardStream: AsyncStream<Announcement>

    private init(channel: any Channel, own: String, paths: ClusterPaths, key: SymmetricKey?, heard: AsyncStream<Announcement>) {
        self.channel = channel
        self.own = own
        self.paths = paths
        self.key = key
        self.peers = Mutex([])
        self.heardStream = heard
    }

    /// The HMAC key of a cluster: derived from its token's secret, which only members hold.
    static func key(_ paths: ClusterPaths) -> SymmetricKey? {
        guard let token = try? ClusterToken.load(paths) else { return nil }
        return SymmetricKey(data: SHA256.hash(data: Array("skiff peer announcements\n".utf8) + Array(token.secret.utf8)))
    }

    /// Listens on this member's cluster address (UDP) and learns the other members from
    /// the member list in `paths`.
    public static func start(paths: ClusterPaths, identity: ClusterIdentity, logger: Logger,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> PeerHints {
        let (host, port) = try DqliteAddress.split(identity.address)
        let key = Self.key(paths)
        if key == nil {
            logger.warning("no cluster token to sign announcements with: other members' changes are read from the database after each hint",
                           metadata: ["path": "\(paths.token)"])
        }
        let (heard, continuation) = AsyncStream<Announcement>.makeStream(bufferingPolicy: .bufferingNewest(heardBuffer))
        let channel = try await DatagramBootstrap(group: group)
            // NIO reads datagrams into 2 KiB buffers by default, cutting larger ones short.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maxDatagram))
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HintReceiver(continuation: continuation, key: key))
                }
            }
            .bind(host: host, port: port).get()
        let hints = PeerHints(channel: channel, own: identity.address, paths: paths, key: key, heard: heard)
        hints.refreshPeers()
        logger.debug("commit hints listening", metadata: ["address": "\(identity.address)/udp"])
        return hints
    }

    /// Tells every other member that this one committed up to `revision`, with `payload`
    /// (the changes) if given and small enough for one datagram. Never blocks.
    public func announce(_ revision: Int64, payload: [UInt8]? = nil) {
        let targets = peers.withLock { $0 }
        guard !targets.isEmpty else { return }
        var datagrams: [ByteBuffer] = []
        if let payload, let key, payload.count <= Self.maxPayload {
            var buffer = channel.allocator.buffer(capacity: Self.changesHeaderSize + payload.count)
            buffer.writeBytes(Self.changesMagic)
            buffer.writeInteger(revision, endianness: .big)
            buffer.writeBytes(Array(Self.mac(revision: revision, payload: payload, key: key)))
            buffer.writeBytes(payload)
            datagrams.append(buffer)
        }
        var hint = channel.allocator.buffer(capacity: Self.datagramSize)
        hint.writeBytes(Self.magic)
        hint.writeInteger(revision, endianness: .big)
        datagrams.append(hint)
        for target in targets {
            for datagram in datagrams {
                channel.write(AddressedEnvelope(remoteAddress: target, data: datagram), promise: nil)
            }
        }
        channel.flush()
    }

    /// The HMAC of an announcement: over the revision (big-endian) and the payload.
    static func mac(revision: Int64, payload: [UInt8], key: SymmetricKey) -> HMAC<SHA256>.MAC {
        var hmac = HMAC<SHA256>(key: key)
        withUnsafeBytes(of: revision.bigEndian) { hmac.update(data: $0) }
        hmac.update(data: payload)
        return hmac.finalize()
    }

    /// What other members announce (the oldest are dropped when they come faster than
    /// they are read). Ends when the hints are closed.
    public var heard: AsyncStream<Announcement> { heardStream }

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

/// Turns well-formed announcements into ``PeerHints/Announcement``s; drops everything else,
/// and any payload whose HMAC does not verify.
private final class HintReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let continuation: AsyncStream<PeerHints.Announcement>.Continuation
    private let key: SymmetricKey?

    init(continuation: AsyncStream<PeerHints.Announcement>.Continuation, key: SymmetricKey?) {
        self.continuation = continuation
        self.key = key
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data).data
        guard bytes.readableBytes >= PeerHints.datagramSize, let magic = bytes.readBytes(length: 8),
              let revision = bytes.readInteger(endianness: .big, as: Int64.self), revision > 0 else { return }
        if magic == PeerHints.magic, bytes.readableBytes == 0 {
            continuation.yield(.init(revision: revision))
        } else if magic == PeerHints.changesMagic, let key, let mac = bytes.readBytes(length: 32),
                  let payload = bytes.readBytes(length: bytes.readableBytes),
                  PeerHints.mac(revision: revision, payload: payload, key: key) == mac {  // constant-time
            continuation.yield(.init(revision: revision, payload: payload))
        }
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
