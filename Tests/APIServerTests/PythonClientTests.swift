import Foundation
import TestSupport
import Testing

/// Python's `kubernetes` client (PyPI) and raw HTTPS requests against a real `skiff server`
/// that also serves its etcd endpoint (used to compact the log).
@Suite struct PythonClientTests {
    @Test func pythonClientSeesKubernetesSemantics() throws {
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
