import Foundation
import TestSupport
import Testing

/// Logs, exec, attach, port forwarding and the proxies, from the real kubectl (1.32 and 1.37)
/// through a real `skiff server` to a fake kubelet (python/fake_kubelet.py: an HTTPS server
/// with the kubelet's paths and its SPDY/3.1 streams, asking for a client certificate of the
/// cluster CA). exec, attach and port-forward run over each kubectl's WebSocket protocols and
/// over SPDY; a user holding `view` reads logs and is refused exec.
@Suite(.serialized, .timeLimit(.minutes(10))) struct KubeletStreamTests {
    @Test func kubectlReachesTheKubeletThroughSkiff() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let viewer = server.dataDir + ".viewer.kubeconfig"
            defer { try? FileManager.default.removeItem(atPath: viewer) }
            let config = try run(try builtProduct("skiff"), ["kubeconfig", "--data-dir", server.dataDir, "--server", server.url, "--user", "viewer"])
            #expect(config.status == 0, "\(config.stderr)")
            FileManager.default.createFile(atPath: viewer, contents: Data(config.stdout.utf8))
            for kubectl in Kubectl.all {
                #expect(FileManager.default.isExecutableFile(atPath: kubectl), "\(kubectl) is missing")
            }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/kubelet_streams.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig, viewer, server.dataDir + "/pki/ca.crt"] + Kubectl.all,
                                 timeout: 480)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }
}
