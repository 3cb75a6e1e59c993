import Foundation
import TestSupport
import Testing

/// The listener's limits against a real `skiff server` (issue 20): HTTP/1.1 framing (RFC 9112),
/// header limits on both protocols and an HPACK bomb, the idle, header, body and handshake
/// timeouts, the connection cap and its metrics; and 1,000 idle and 1,000 slow clients.
/// The checks are in python/http_limits.py; each test starts the server with short limits.
@Suite(.timeLimit(.minutes(10))) struct HTTPLimitsTests {
    /// What one run of the script left: its output, whether the server still ran, its log.
    struct Run: Sendable {
        var result: CommandOutput
        var serverAlive: Bool
        var log: String
    }

    /// Starts a server and runs the script against it, off the cooperative pool (both wait
    /// for minutes on sockets and timeouts), then checks what it said.
    private func runScript(_ mode: String, serverArguments: [String], withKubectl: Bool = false,
                           timeout: TimeInterval) async throws -> CommandOutput {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/http_limits.py").path
        let run = try await offPool { () throws -> Run in
            let server = try SkiffServer(extraArguments: serverArguments)
            defer { server.destroy() }
            let extra = withKubectl ? [Kubectl.v137, server.kubeconfig] : []
            let result = try TestSupport.run(try which("python3"),
                                             [script, mode, server.url, server.dataDir, String(server.process.processIdentifier)] + extra,
                                             timeout: timeout)
            return Run(result: result, serverAlive: server.process.isRunning, log: server.logTail())
        }
        #expect(run.result.status == 0, "\(run.result.stdout)\n\(run.result.stderr)\n\(run.log)")
        #expect(run.result.stdout.hasSuffix("OK\n"), "\(run.result.stdout)")
        #expect(run.serverAlive, "the server survived")
        return run.result
    }

    @Test(.timeLimit(.minutes(4))) func framingHeadersAndTimeouts() async throws {
        _ = try await runScript("timeouts", serverArguments: ["--http-idle-timeout", "3s", "--http-read-header-timeout", "3s",
                                                        "--http-request-read-timeout", "4s"], timeout: 200)
    }

    @Test(.timeLimit(.minutes(5))) func thousandIdleAndThousandSlowClients() async throws {
        let result = try await runScript("crowd", serverArguments: ["--http-idle-timeout", "15s", "--http-read-header-timeout", "15s"],
                                         withKubectl: true, timeout: 280)
        print(result.stdout.split(separator: "\n").filter { $0.hasPrefix("figure:") }.joined(separator: "\n"))
    }

    @Test(.timeLimit(.minutes(10))) func connectionCap() async throws {
        _ = try await runScript("cap", serverArguments: ["--max-connections", "20"], timeout: 100)
    }
}
