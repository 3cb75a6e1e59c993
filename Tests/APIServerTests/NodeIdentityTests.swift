import Foundation
import TestSupport
import Testing

/// A node's identity against a real `skiff server`: the Node authorizer and NodeRestriction
/// admission (`--authorization-mode Node,RBAC`, the default), and a kubelet's TLS bootstrap
/// (a bootstrap token, a CertificateSigningRequest, approval, Skiff's signature).
@Suite(.serialized, .timeLimit(.minutes(5))) struct NodeIdentityTests {
    /// A kubelet's credential (`system:node:node-a` in `system:nodes`, from `skiff kubeconfig
    /// --user --group`) driven by the Python client through the allow and deny cases
    /// (python/node_authorization.py).
    @Test func aKubeletReachesOnlyWhatItsPodsUse() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let nodeConfig = server.dataDir + ".node-a.kubeconfig"
            defer { try? FileManager.default.removeItem(atPath: nodeConfig) }
            let config = try run(try builtProduct("skiff"), ["kubeconfig", "--data-dir", server.dataDir, "--server", server.url,
                                                              "--user", "system:node:node-a", "--group", "system:nodes"])
            #expect(config.status == 0, "\(config.stderr)")
            FileManager.default.createFile(atPath: nodeConfig, contents: Data(config.stdout.utf8))
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/node_authorization.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig, nodeConfig], timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    /// python/csr_bootstrap.py: a bootstrap token signs in (wrong, expired and unknown ones do
    /// not), asks for a kubelet client certificate and cannot approve it; kubectl 1.37 approves,
    /// Skiff signs, openssl verifies the certificate, and it signs in as the node; a serving
    /// request without addresses fails the signer's rules; a request that is not PEM is a 422.
    @Test func aKubeletBootstrapsItsClientCertificate() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/csr_bootstrap.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig, server.dataDir + "/pki/ca.crt", server.url, Kubectl.v137],
                                 timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }
}
