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
}
