import Foundation
import TestSupport
import Testing

/// Python's etcd3 client (PyPI) against a real `skiff etcd`: the checks live in
/// `python/etcd3_client.py`, including a watch that must see every one of 5,000 events
/// written by 4 concurrent writers, in order.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EtcdPythonClientTests {
    @Test func etcd3ClientChecksPass() async throws {
        try await offPool {
            try runPythonChecks("etcd3_client.py", expecting: 8)
        }
    }

    /// The Watch protocol with raw grpcio streams (`python/watch_protocol.py`): client-chosen
    /// and duplicate watch IDs, filters, cancelling one watch of a stream, a progress request
    /// answered after every event sent, and a watch whose client stops reading: it falls
    /// behind and catches up, or is cancelled with the compact revision if what it missed
    /// was compacted meanwhile; and periodic progress, every second here, for watches
    /// created with progress_notify only.
    /// What kube-apiserver 1.35 relies on at its first start (issue 22): revision 1 in every
    /// response header of a new store, and its compaction rounds (the Txn on
    /// `compact_rev_key`, Compact, the watch other kube-apiservers keep on the key).
    @Test(.timeLimit(.minutes(10))) func aNewStoreServesKubeAPIServersFirstStartAndCompaction() async throws {
        try await offPool {
            try runPythonChecks("kube_apiserver_first_start.py", expecting: 2)
        }
    }

    @Test func watchProtocolChecksPass() async throws {
        try await offPool {
            try runPythonChecks("watch_protocol.py", expecting: 6, serverArguments: ["--experimental-watch-progress-notify-interval", "1s"])
        }
    }
}

/// The gRPC transport under raw calls (grpcio) and a plain HTTP/2 client (nghttp): the
/// checks live in `python/grpc_transport.py`.
@Suite(.serialized, .timeLimit(.minutes(10))) struct GRPCTransportTests {
    @Test func rawGRPCCallsGetClearStatuses() async throws {
        try await offPool {
            try runPythonChecks("grpc_transport.py", expecting: 9)
        }
    }

    @Test func aRequestThatIsNotGRPCGets415() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            let result = try run(try which("nghttp"), ["-v", "-H", "content-type: text/plain", "\(etcd.endpoint)/etcdserverpb.KV/Put"], timeout: 30)
            #expect(result.stdout.contains(":status: 415"), "\(result.stdout)\(result.stderr)")
            // The connection and the server still serve gRPC afterwards.
            let put = try etcd.etcdctl(["put", "after", "415"])
            #expect(put.status == 0 && put.stdout.contains("OK"), "\(put.stdout)\(put.stderr)")
        }
    }
}

/// Runs one of the scripts in `python/` against a fresh `skiff etcd`; every one of its
/// `count` checks must pass.
private func runPythonChecks(_ name: String, expecting count: Int, serverArguments: [String] = []) throws {
    let etcd = try SkiffEtcd(extraArguments: serverArguments)
    defer { etcd.destroy() }
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/" + name).path
    let port = String(etcd.endpoint.split(separator: ":").last!)
    let result = try run(try which("python3"), [script, "127.0.0.1", port], timeout: 300)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("\(count) passed, 0 failed"), "\(result.stdout)")
}
