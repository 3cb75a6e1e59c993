import Foundation
import TestSupport
import Testing

/// The Node authorizer and NodeRestriction admission against a real `skiff server`
/// (`--authorization-mode Node,RBAC`, the default): a kubelet's credential
/// (`system:node:node-a` in `system:nodes`, from `skiff kubeconfig --user --group`) driven by
/// the Python client through the allow and deny cases (python/node_authorization.py).
@Suite(.serialized, .timeLimit(.minutes(5))) struct NodeAuthorizationTests {
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
}
