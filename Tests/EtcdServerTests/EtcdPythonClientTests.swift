import Foundation
import TestSupport
import Testing

/// Python's etcd3 client (PyPI) against a real `skiff etcd`: the checks live in
/// `python/etcd3_client.py`, including a watch that must see every one of 5,000 events
/// written by 4 concurrent writers, in order.
@Suite(.serialized) struct EtcdPythonClientTests {
    @Test func etcd3ClientChecksPass() throws {
        let etcd = try SkiffEtcd()
        defer { etcd.destroy() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/etcd3_client.py").path
        let port = String(etcd.endpoint.split(separator: ":").last!)
        let result = try run(try which("python3"), [script, "127.0.0.1", port], timeout: 300)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("7 passed, 0 failed"), "\(result.stdout)")
    }
}
