import Foundation
import TestSupport
import Testing
@testable import APIServer

/// Runs the built `skiff` binary and returns its exit status and output (both streams).
func runSkiff(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try run(try builtProduct("skiff"), arguments)
    return (result.status, result.stdout + result.stderr)
}

@Suite struct SkiffCommandTests {
    @Test func helpListsTheCommands() throws {
        let (status, output) = try runSkiff(["--help"])
        #expect(status == 0)
        #expect(output.contains("USAGE: skiff <subcommand>"))
        #expect(output.contains("version"))
    }

    @Test func versionNamesSkiffKubernetesAndSQLite() throws {
        let (status, output) = try runSkiff(["version"])
        #expect(status == 0)
        #expect(output.contains("skiff \(SkiffVersion.skiff)"))
        #expect(output.contains(SkiffVersion.gitVersion))
        #expect(output.contains("sqlite 3."))
    }

    @Test func anUnknownCommandIsAClearError() throws {
        let (status, output) = try runSkiff(["frobnicate"])
        #expect(status != 0)
        #expect(output.contains("Unexpected argument 'frobnicate'"))
    }

    /// Issue 20: the etcd endpoint of `skiff server` serves every Secret without authorization
    /// of its own, so it listens beyond loopback only with client certificates required.
    @Test(.timeLimit(.minutes(1))) func theEtcdEndpointStaysOnLoopbackWithoutClientCertificates() throws {
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
