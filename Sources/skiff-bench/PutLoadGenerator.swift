import EtcdAPI
import EtcdServer
import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// A closed-loop write load on any etcd v3 endpoint: `clients` callers, spread over
/// `connections` HTTP/2 connections, each sending its next `KV.Put` as soon as its last one is
/// answered, for `seconds`. Every Put writes a random 256-byte key with a 1 KiB value under
/// `prefix`, the shape `etcdctl check perf` writes: a new key each time, or with `keys` one of
/// that many, so that most Puts update a key (as Kubernetes mostly updates its objects).
/// Unlike check perf, no rate limiter paces it, so it measures how many writes the server
/// completes while it shares the machine with the load.
///
/// It speaks gRPC over NIOHTTP2 directly (one stream per call: request headers, one
/// length-prefixed message, response headers, message, trailers) and counts a call as written
/// only when its trailers carry `grpc-status: 0`. Requests are the project's generated etcd
/// messages (EtcdAPI). A connection that breaks (its member killed) is made again, so its
/// callers resume once the member serves again.
struct PutLoadGenerator {
    var clients: Int
    var connections: Int
    var seconds: Double
    /// How many distinct keys the Puts write; `nil` for a new key each time.
    var keys: UInt64?
    var prefix = "/skiff-bench-load/"

    struct Result {
        var writes: Int
        var failures: Int
        var seconds: Double
        var p50: Double
        var p99: Double
        var firstFailure: String?
        var rate: Double { Double(writes) / seconds }
    }

    /// One caller's tally.
    private struct Tally: Sendable {
        var latencies: [Double] = []
        var failures = 0
        var firstFailure: String?
    }

    private typealias Stream = NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>
    private typealias Multiplexer = NIOHTTP2Handler.AsyncStreamMultiplexer<Void>

    func run(port: Int) async throws -> Result {
        try await run(ports: [port])
    }

    /// The load spread over several endpoints (a cluster's members): connections go to
    /// `ports` in turn, callers to connections in turn.
    func run(ports: [Int]) async throws -> Result {
        precondition(!ports.isEmpty, "no endpoint to load")
        let port = ports[0]
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        // grpc-go servers (etcd) PING after each response DATA frame to estimate bandwidth:
        // NIOHTTP2's default limit of 200 control frames per 30 s would make the client close
        // a busy connection with ENHANCE_YOUR_CALM within a second.
        var http2 = NIOHTTP2Handler.Configuration()
        http2.connection.controlFrameRateLimit.maximumCount = 100_000
        http2.connection.controlFrameRateLimit.windowLength = .milliseconds(100)
        let connections = (0..<max(ports.count, min(self.connections, clients))).map {
            Connection(port: ports[$0 % ports.count], group: group, http2: http2)
        }
        // Every connection is made before the clock starts: a member that cannot be reached
        // at the start is an error, not a slow start.
        do {
            for connection in connections { _ = try await connection.current() }
        } catch {
            for connection in connections { await connection.close() }
            try? await group.shutdownGracefully()
            throw error
        }

        let headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": "/etcdserverpb.KV/Put",
            ":authority": "127.0.0.1:\(port)", "content-type": "application/grpc", "te": "trailers",
        ]
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        let tallies = await withTaskGroup(of: Tally?.self) { group in
            for caller in 0..<clients {
                let connection = connections[caller % connections.count]
                group.addTask { await Self.call(connection, headers: headers, prefix: prefix, keys: keys, until: deadline) }
            }
            // A call the server never answers would hold the run forever: closing the
            // connections 10 s after the deadline fails it.
            group.addTask {
                try? await Task.sleep(until: deadline + .seconds(10))
                if !Task.isCancelled { for connection in connections { await connection.close() } }
                return nil
            }
            var tallies: [Tally] = []
            while let finished = await group.next() {
                guard let tally = finished else { continue }
                tallies.append(tally)
                if tallies.count == clients { group.cancelAll() }
            }
            return tallies
        }
        let elapsed = ContinuousClock.now - started
        for connection in connections { await connection.close() }
        try? await group.shutdownGracefully()

        let latencies = tallies.flatMap(\.latencies).sorted()
        return Result(writes: latencies.count, failures: tallies.reduce(0) { $0 + $1.failures }, seconds: elapsed.seconds,
                      p50: percentile(latencies, 0.50), p99: percentile(latencies, 0.99),
                      firstFailure: tallies.lazy.compactMap(\.firstFailure).first)
    }

    /// One of the run's HTTP/2 connections, made again once it breaks (a killed member
    /// that comes back gets its callers back), by one caller while the others wait.
    private actor Connection {
        struct Link: Sendable {
            let channel: any Channel
            let multiplexer: Multiplexer
        }

        let port: Int
        let group: any EventLoopGroup
        let http2: NIOHTTP2Handler.Configuration
        private var link: Link?
        private var connecting: Task<Link, any Error>?
        private var closed = false

        init(port: Int, group: any EventLoopGroup, http2: NIOHTTP2Handler.Configuration) {
            self.port = port
            self.group = group
            self.http2 = http2
        }

        /// The open connection, made first if there is none (or it broke).
        func current() async throws -> Link {
            if let link, link.channel.isActive { return link }
            if closed { throw ChannelError.ioOnClosedChannel }
            if let connecting { return try await connecting.value }
            let (port, group, http2) = (self.port, self.group, self.http2)
            let task = Task { try await Self.connect(port: port, group: group, http2: http2) }
            connecting = task
            defer { connecting = nil }
            let made = try await task.value
            if closed { made.channel.close(promise: nil) } else { link = made }
            return made
        }

        func close() {
            closed = true
            link?.channel.close(promise: nil)
            link = nil
        }

        private static func connect(port: Int, group: any EventLoopGroup, http2: NIOHTTP2Handler.Configuration) async throws -> Link {
            let (channel, multiplexer) = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(2))
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client, configuration: http2) {
                            $0.eventLoop.makeSucceededVoidFuture()
                        }
                        return (channel, multiplexer)
                    }
                }
            return Link(channel: channel, multiplexer: multiplexer)
        }
    }

    /// One caller: Puts back to back until the deadline. A failed call is counted; when its
    /// connection has broken, the next call waits for it to be made again (every 100 ms).
    private static func call(_ connection: Connection, headers: HPACKHeaders, prefix: String, keys: UInt64?,
                             until deadline: ContinuousClock.Instant) async -> Tally {
        var tally = Tally()
        var key = [UInt8](prefix.utf8) + [UInt8](repeating: 0, count: 256)
        let value = [UInt8](repeating: 0, count: 1024)
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let link: Connection.Link
            do {
                link = try await connection.current()
            } catch {
                // The member is not reachable (killed, say): a failed call every 100 ms.
                tally.failures += 1
                tally.firstFailure = tally.firstFailure ?? "\(error)"
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let number = keys.map { UInt64.random(in: 0..<max($0, 1)) } ?? UInt64.random(in: .min ... .max)
            withUnsafeBytes(of: number) { random in
                key.replaceSubrange(prefix.utf8.count..<prefix.utf8.count + 8, with: random)
            }
            let start = ContinuousClock.now
            var failure: String?
            do {
                failure = try await put(link.multiplexer, headers: headers, message: try putRequest(key: key, value: value))
            } catch {
                failure = "\(error)"
            }
            if let failure {
                tally.failures += 1
                tally.firstFailure = tally.firstFailure ?? failure
                // A broken connection fails every call at once: do not spin on it.
                try? await Task.sleep(for: .milliseconds(10))
            } else {
                tally.latencies.append((ContinuousClock.now - start).seconds * 1000)
            }
        }
        return tally
    }

    /// One Put on a new stream; `nil` if its trailers carry `grpc-status: 0`, else why not.
    private static func put(_ multiplexer: Multiplexer, headers: HPACKHeaders, message: ByteBuffer) async throws -> String? {
        let stream = try await multiplexer.openStream { channel in
            channel.eventLoop.makeCompletedFuture { try Stream(wrappingChannelSynchronously: channel) }
        }
        return try await stream.executeThenClose { inbound, outbound in
            try await outbound.write(contentsOf: [
                .headers(.init(headers: headers)),
                .data(.init(data: .byteBuffer(message), endStream: true)),
            ])
            var failure: String? = "no grpc-status"
            for try await frame in inbound {
                guard case .headers(let received) = frame, let code = received.headers.first(name: "grpc-status") else { continue }
                failure = code == "0" ? nil : "grpc-status \(code): \(received.headers.first(name: "grpc-message") ?? "")"
            }
            return failure
        }
    }

    /// A gRPC length-prefixed `PutRequest` (the project's generated etcd message, framed as
    /// skiff's own gRPC transport frames its messages).
    private static func putRequest(key: [UInt8], value: [UInt8]) throws -> ByteBuffer {
        var request = Etcdserverpb_PutRequest()
        request.key = Data(key)
        request.value = Data(value)
        return GRPCDeframer.frame(try request.serializedBytes(), allocator: ByteBufferAllocator())
    }
}
