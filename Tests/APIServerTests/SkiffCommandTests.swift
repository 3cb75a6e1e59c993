import Foundation
import TestSupport
import Testing
@testable import APIServer

/// Runs the built `skiff` binary and returns its exit status and output (both streams).
func runSkiff(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try run(try builtProduct("skiff"), arguments)
    return (result.status, result.stdout + result.stderr)
}

@Suite(.timeLimit(.minutes(10))) struct SkiffCommandTests {
    @Test func helpListsTheCommands() async throws {
        try await offPool {
            let (status, output) = try runSkiff(["--help"])
            #expect(status == 0)
            #expect(output.contains("USAGE: skiff <subcommand>"))
            #expect(output.contains("version"))
        }
    }

    @Test func versionNamesSkiffKubernetesAndSQLite() async throws {
        try await offPool {
            let (status, output) = try runSkiff(["version"])
            #expect(status == 0)
            #expect(output.contains("skiff \(SkiffVersion.skiff)"))
            #expect(output.contains(SkiffVersion.gitVersion))
            #expect(output.contains("sqlite 3."))
        }
    }

    @Test func anUnknownCommandIsAClearError() async throws {
        try await offPool {
            let (status, output) = try runSkiff(["frobnicate"])
            #expect(status != 0)
            #expect(output.contains("Unexpected argument 'frobnicate'"))
        }
    }

    /// A failure while a command runs is an error line, not a usage text: only a mistake in
    /// the arguments gets the usage.
    @Test(.timeLimit(.minutes(10))) func runtimeErrorsAreNotUsageErrors() async throws {
        try await offPool {
            let (status, output) = try runSkiff(["kubeconfig", "--data-dir", "/nonexistent/skiff-\(UUID().uuidString)"])
            #expect(status == 1)
            #expect(output.contains("Error: ") && output.contains("is missing"), "\(output)")
            #expect(!output.contains("Usage:"), "no usage text after a runtime error: \(output)")
            let (badStatus, badOutput) = try runSkiff(["server", "--log-level", "loud"])
            #expect(badStatus == 64)
            #expect(badOutput.contains("--log-level loud is not a level") && badOutput.contains("Usage: skiff server"), "\(badOutput)")
        }
    }

    /// Issue 20: the etcd endpoint of `skiff server` serves every Secret without authorization
    /// of its own, so it listens beyond loopback only with client certificates required.
    @Test(.timeLimit(.minutes(10))) func theEtcdEndpointStaysOnLoopbackWithoutClientCertificates() async throws {
        try await offPool {
            let (status, output) = try runSkiff(["server", "--data-dir", NSTemporaryDirectory() + "skiff-refused-\(UUID().uuidString)",
                                                 "--listen", "127.0.0.1:0", "--etcd-listen", "0.0.0.0:0"])
            #expect(status != 0)
            #expect(output.contains("would serve every object, Secrets included"), "\(output)")
            let (partial, partialOutput) = try runSkiff(["server", "--listen", "127.0.0.1:0", "--etcd-listen", "127.0.0.1:0",
                                                         "--etcd-cert-file", "/nonexistent.crt"])
            #expect(partial != 0)
            #expect(partialOutput.contains("go together"), "\(partialOutput)")
        }
    }

    /// `skiff kubeconfig --user` issues a client certificate for a control-plane component,
    /// which then holds exactly its bootstrap role (kube-scheduler's here, under RBAC).
    @Test(.timeLimit(.minutes(10))) func kubeconfigIssuesComponentCredentials() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let config = try run(try builtProduct("skiff"), ["kubeconfig", "--data-dir", server.dataDir, "--server", server.url,
                                                             "--user", "system:kube-scheduler"])
            #expect(config.status == 0, "\(config.stderr)")
            let path = server.dataDir + "/scheduler.kubeconfig"
            try config.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            func kubectl(_ arguments: [String]) throws -> CommandOutput { try run(Kubectl.v137, ["--kubeconfig", path] + arguments) }
            let whoami = try kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])
            #expect(whoami.stdout == "system:kube-scheduler", "\(whoami.stdout)\(whoami.stderr)")
            for (question, answer) in [(["create", "pods", "--subresource=binding"], "yes"), (["get", "nodes"], "yes"), (["patch", "pods", "--subresource=status"], "yes"),
                                       (["create", "pods"], "no"), (["get", "secrets"], "no"), (["delete", "nodes"], "no")] {
                let reply = try kubectl(["auth", "can-i"] + question)
                #expect(reply.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == answer, "can-i \(question): \(reply.stdout)\(reply.stderr)")
            }
            let refused = try runSkiff(["kubeconfig", "--data-dir", server.dataDir, "--group", "system:masters"])
            #expect(refused.status == 64 && refused.output.contains("--group needs --user"), "\(refused.output)")
        }
    }
}

