import Foundation
import TestSupport
import Testing

/// The listener's limits against a real `skiff server` (issue 20): HTTP/1.1 framing (RFC 9112),
/// header limits on both protocols and an HPACK bomb, the idle, header, body and handshake
/// timeouts, the connection cap and its metrics; and 1,000 idle and 1,000 slow clients.
/// The checks are in python/http_limits.py; each test starts the server with short limits.
@Suite struct HTTPLimitsTests {
    private func runScript(_ mode: String, serverArguments: [String], extra: (SkiffServer) -> [String] = { _ in [] },
                           timeout: TimeInterval) throws -> CommandOutput {
        let server = try SkiffServer(extraArguments: serverArguments)
        defer { server.destroy() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/http_limits.py").path
        let result = try run(try which("python3"),
                             [script, mode, server.url, server.dataDir, String(server.process.processIdentifier)] + extra(server),
                             timeout: timeout)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
        #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        #expect(server.process.isRunning, "the server survived")
        return result
    }

    @Test(.timeLimit(.minutes(4))) func framingHeadersAndTimeouts() throws {
        _ = try runScript("timeouts", serverArguments: ["--http-idle-timeout", "3s", "--http-read-header-timeout", "3s",
                                                        "--http-request-read-timeout", "4s"], timeout: 200)
    }

    @Test(.timeLimit(.minutes(5))) func thousandIdleAndThousandSlowClients() throws {
        let result = try runScript("crowd", serverArguments: ["--http-idle-timeout", "15s", "--http-read-header-timeout", "15s"],
                                   extra: { [Kubectl.v137, $0.kubeconfig] }, timeout: 280)
        print(result.stdout.split(separator: "\n").filter { $0.hasPrefix("figure:") }.joined(separator: "\n"))
    }

    @Test(.timeLimit(.minutes(2))) func connectionCap() throws {
        _ = try runScript("cap", serverArguments: ["--max-connections", "20"], timeout: 100)
    }
}
