import NIOCore
import NIOPosix
import NIOSSL
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How the dqlite node reaches other members: over mutual TLS, because dqlite 1.11 has no
/// transport security of its own. The node's connect function gets one end of a local
/// socket pair; the other end is relayed through a TLS connection to the member's cluster
/// port, where that member's proxy hands it to its own node.
final class NodeDialer: Sendable {
    let tls: NIOSSLContext
    let group: any EventLoopGroup

    init(tls: NIOSSLContext, group: any EventLoopGroup) {
        self.tls = tls
        self.group = group
    }

    /// The dialer the connect function uses (one node per process).
    static let current = Mutex<NodeDialer?>(nil)

    /// Dials `address` ("IP:PORT") over TLS with TCP_NODELAY and returns a descriptor the
    /// node can use as the connection. Blocks: called on a libuv thread-pool thread.
    func dial(_ address: String) throws -> Int32 {
        let (host, port) = try DqliteAddress.split(address)
        let (nodeEnd, relayEnd) = try LocalSocket.pair()
        do {
            let tls = self.tls
            let remote = try ClientBootstrap(group: group)
                .connectTimeout(.seconds(2))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.autoRead, value: false)
                .channelOption(.writeBufferWaterMark, value: RelayHandler.waterMark)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                }
                .connect(host: host, port: port).wait()
            do {
                // The local end runs on the TLS connection's event loop: each relayed chunk is
                // then written to its partner on the same thread, with no hop between threads.
                let local = try ClientBootstrap(group: remote.eventLoop)
                    .channelOption(.writeBufferWaterMark, value: RelayHandler.waterMark)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(RelayHandler(partner: remote))
                        }
                    }
                    .withConnectedSocket(relayEnd).wait()
                try remote.pipeline.addHandler(RelayHandler(partner: local)).wait()
                try remote.setOption(.autoRead, value: true).wait()
            } catch {
                remote.close(promise: nil)
                throw error
            }
            return nodeEnd
        } catch {
            close(nodeEnd)
            close(relayEnd)
            throw error
        }
    }
}

/// The connect function installed in the dqlite node (`dqlite_node_set_connect_func`).
let nodeConnectFunction: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32 = { _, address, fd in
    guard let address, let fd, let dialer = NodeDialer.current.withLock({ $0 }) else { return 1 }
    do {
        fd.pointee = try dialer.dial(String(cString: address))
        return 0
    } catch {
        return 1
    }
}
