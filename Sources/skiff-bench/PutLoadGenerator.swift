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
/// messages (EtcdAPI).
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
        var channels: [Channel] = []
        var multiplexers: [Multiplexer] = []
        do {
            for connection in 0..<max(ports.count, min(connections, clients)) {
                let (channel, multiplexer) = try await ClientBootstrap(group: group)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: "127.0.0.1", port: ports[connection % ports.count]) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client, configuration: http2) {
                                $0.eventLoop.makeSucceededVoidFuture()
                            }
                            return (channel, multiplexer)
                        }
                    }
                channels.append(channel)
                multiplexers.append(multiplexer)
            }
        } catch {
            for channel in channels { try? await channel.close() }
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
                let multiplexer = multiplexers[caller % multiplexers.count]
                group.addTask { await Self.call(multiplexer, headers: headers, prefix: prefix, keys: keys, until: deadline) }
            }
            // A call the server never answers would hold the run forever: closing the
            // connections 10 s after the deadline fails it.
            group.addTask { [channels] in
                try? await Task.sleep(until: deadline + .seconds(10))
                if !Task.isCancelled { for channel in channels { channel.close(promise: nil) } }
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
        for channel in channels { try? await channel.close() }
        try? await group.shutdownGracefully()

        let latencies = tallies.flatMap(\.latencies).sorted()
        return Result(writes: latencies.count, failures: tallies.reduce(0) { $0 + $1.failures }, seconds: elapsed.seconds,
                      p50: percentile(latencies, 0.50), p99: percentile(latencies, 0.99),
                      firstFailure: tallies.lazy.compactMap(\.firstFailure).first)
    }

    /// One caller: Puts back to back until the deadline.
    private static func call(_ multiplexer: Multiplexer, headers: HPACKHeaders, prefix: String, keys: UInt64?,
                             until deadline: ContinuousClock.Instant) async -> Tally {
        var tally = Tally()
        var key = [UInt8](prefix.utf8) + [UInt8](repeating: 0, count: 256)
        let value = [UInt8](repeating: 0, count: 1024)
        while ContinuousClock.now < deadline {
            let number = keys.map { UInt64.random(in: 0..<max($0, 1)) } ?? UInt64.random(in: .min ... .max)
            withUnsafeBytes(of: number) { random in
                key.replaceSubrange(prefix.utf8.count..<prefix.utf8.count + 8, with: random)
            }
            let start = ContinuousClock.now
            do {
                if let failure = try await put(multiplexer, headers: headers, message: try putRequest(key: key, value: value)) {
                    tally.failures += 1
                    tally.firstFailure = tally.firstFailure ?? failure
                } else {
                    tally.latencies.append((ContinuousClock.now - start).seconds * 1000)
                }
            } catch {
                tally.failures += 1
                tally.firstFailure = tally.firstFailure ?? "\(error)"
                // A broken connection fails every call at once: do not spin on it.
                try? await Task.sleep(for: .milliseconds(10))
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
