import Dispatch
import EtcdAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Load generators for any etcd v3 endpoint, over grpc-swift.
enum EtcdLoad {
    struct PutResult {
        var writes: Int
        var seconds: Double
        var p50: Double
        var p99: Double
        var rate: Double { Double(writes) / seconds }
    }

    /// `clients` concurrent clients over `connections` HTTP/2 connections put 256-byte values
    /// to distinct keys for `duration`.
    static func puts(port: Int, clients: Int, connections: Int, duration: Duration) async throws -> PutResult {
        try await withClients(port: port, count: connections) { grpc in
            let value = Data(repeating: 0x61, count: 256)
            let start = ContinuousClock.now
            let deadline = start + duration
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for c in 0..<clients {
                    group.addTask {
                        let kv = Etcdserverpb_KV.Client(wrapping: grpc[c % grpc.count])
                        var mine: [Double] = []
                        var n = 0
                        while ContinuousClock.now < deadline {
                            var put = Etcdserverpb_PutRequest()
                            put.key = Data("/bench/\(c)/\(n)".utf8)
                            put.value = value
                            let t0 = ContinuousClock.now
                            _ = try await kv.put(put)
                            mine.append((ContinuousClock.now - t0).milliseconds)
                            n += 1
                        }
                        return mine
                    }
                }
                var all: [Double] = []
                for try await part in group { all += part }
                return all
            }
            let seconds = (ContinuousClock.now - start).seconds
            let sorted = latencies.sorted()
            return PutResult(writes: sorted.count, seconds: seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99))
        }
    }

    struct WatchResult {
        var samples: Int
        var expected: Int
        var p50: Double
        var p99: Double
    }

    /// `watchers` watch streams on one prefix; a writer puts `rate` values per second for
    /// `duration`, each carrying its send time; every event's delay from put to arrival is
    /// one sample.
    static func watchLatency(port: Int, watchers: Int, rate: Int, duration: Duration) async throws -> WatchResult {
        try await withClients(port: port, count: 4) { grpc in
            let writes = Int(duration.seconds * Double(rate))
            let ready = AsyncStream<Void>.makeStream()
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for w in 0..<watchers {
                    group.addTask {
                        let watch = Etcdserverpb_Watch.Client(wrapping: grpc[w % grpc.count])
                        let samples = Mutex<[Double]>([])
                        do {
                            try await watch.watch(requestProducer: { writer in
                                var create = Etcdserverpb_WatchCreateRequest()
                                create.key = Data("/wl/".utf8)
                                create.rangeEnd = Data("/wl0".utf8)
                                var request = Etcdserverpb_WatchRequest()
                                request.createRequest = create
                                try await writer.write(request)
                            }, onResponse: { response in
                                var mine: [Double] = []
                                mine.reserveCapacity(writes)
                                for try await message in response.messages {
                                    if message.created { ready.continuation.yield() }
                                    let now = DispatchTime.now().uptimeNanoseconds
                                    for event in message.events {
                                        let sent = UInt64(String(decoding: event.kv.value, as: UTF8.self)) ?? now
                                        mine.append(Double(now &- sent) / 1e6)
                                    }
                                    // Enough: leaving the handler cancels the RPC (etcd keeps
                                    // a watch stream open even after the client half-closes).
                                    if mine.count >= writes { break }
                                }
                                samples.withLock { $0 = mine }
                            })
                        } catch {
                            // Cancelling the RPC may surface as an error; the samples are kept.
                            if samples.withLock({ $0.isEmpty }) { throw error }
                        }
                        return samples.withLock { $0 }
                    }
                }
                var created = 0
                for await _ in ready.stream {
                    created += 1
                    if created == watchers { break }
                }
                // The writer: `rate` puts per second, on a fixed schedule, from 4 tasks.
                let start = ContinuousClock.now
                let interval = Duration.nanoseconds(1_000_000_000 / Int64(rate))
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for t in 0..<4 {
                        writers.addTask {
                            let kv = Etcdserverpb_KV.Client(wrapping: grpc[t % grpc.count])
                            for k in stride(from: t, to: writes, by: 4) {
                                try await Task.sleep(until: start + interval * k, clock: .continuous)
                                var put = Etcdserverpb_PutRequest()
                                put.key = Data("/wl/\(k % 100)".utf8)
                                put.value = Data(String(DispatchTime.now().uptimeNanoseconds).utf8)
                                _ = try await kv.put(put)
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
                var all: [Double] = []
                for try await part in group { all += part }
                return all
            }
            let sorted = latencies.sorted()
            return WatchResult(samples: sorted.count, expected: writes * watchers, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99))
        }
    }

    /// Runs `body` with `count` connected gRPC clients.
    private static func withClients<T: Sendable>(port: Int, count: Int,
                                                 _ body: @Sendable ([GRPCClient<HTTP2ClientTransport.Posix>]) async throws -> T) async throws -> T {
        let clients = try (0..<count).map { _ in
            GRPCClient(transport: try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext,
                config: .defaults { $0.http2.targetWindowSize = 8 * 1024 * 1024 }))
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { try await client.runConnections() } }
            do {
                let result = try await body(clients)
                for client in clients { client.beginGracefulShutdown() }
                try await group.waitForAll()
                return result
            } catch {
                for client in clients { client.beginGracefulShutdown() }
                throw error
            }
        }
    }
}

extension Duration {
    var milliseconds: Double { seconds * 1000 }
}
