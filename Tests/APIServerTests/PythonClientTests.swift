import Foundation
import TestSupport
import Testing

/// Python's `kubernetes` client (PyPI), raw HTTPS requests and grpcio against a real
/// `skiff server` that also serves its etcd endpoint.
@Suite(.timeLimit(.minutes(10))) struct PythonClientTests {
    @Test func pythonClientSeesKubernetesSemantics() async throws {
        try await offPool {
            let server = try SkiffServer(extraArguments: ["--etcd-listen", "127.0.0.1:0"])
            defer { server.destroy() }
            let etcd = try #require(server.etcdEndpoint, "the server announces its etcd endpoint")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/kubernetes_client.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig, server.url, server.dataDir + "/pki/ca.crt", etcd],
                                 timeout: 300)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    /// `skiff server`'s etcd endpoint passes the watch protocol checks `skiff etcd` passes
    /// (grpcio), periodic progress for progress_notify watches at the flag's interval included:
    /// at the 10-minute default that check fails.
    @Test func etcdEndpointPassesTheWatchProtocolChecks() async throws {
        try await offPool {
            let server = try SkiffServer(extraArguments: ["--etcd-listen", "127.0.0.1:0",
                                                          "--experimental-watch-progress-notify-interval", "1s"])
            defer { server.destroy() }
            let etcd = try #require(server.etcdEndpoint, "the server announces its etcd endpoint")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../EtcdServerTests/python/watch_protocol.py").standardized.path
            let result = try run(try which("python3"), [script, "127.0.0.1", String(etcd.split(separator: ":").last!)], timeout: 300)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("6 passed, 0 failed"), "\(result.stdout)")
        }
    }

    /// kube-apiserver's exact behaviours over raw HTTPS (protobuf answers and watches, content
    /// negotiation, metadata-only lists, status/finalize/approval subresources, config key
    /// checks, field selectors, the two Events APIs, published objects, continue tokens past
    /// compaction), against a server that compacts every second.
    @Test(.timeLimit(.minutes(5))) func rawRequestsSeeKubeAPIServersBehaviour() async throws {
        try await offPool {
            let server = try SkiffServer(extraArguments: ["--etcd-compaction-interval", "1s"])
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/kube_parity.py").path
            let result = try run(try which("python3"), [script, server.url, server.dataDir], timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    /// gzip of large answers for clients that accept it (raw HTTPS), not of small ones or
    /// watches; kubectl reads a compressed list.
    @Test(.timeLimit(.minutes(3))) func largeAnswersAreCompressedForClientsThatAcceptGzip() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/response_compression.py").path
            let result = try run(try which("python3"), [script, server.url, server.dataDir, try which("kubectl")], timeout: 150)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    /// pods/binding, the bindings resource and pods/eviction with PodDisruptionBudgets, with
    /// the Python client (what kube-scheduler and `kubectl drain` use).
    @Test(.timeLimit(.minutes(5))) func bindingAndEvictionHonourBudgets() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/pod_binding_eviction.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig], timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }
}

