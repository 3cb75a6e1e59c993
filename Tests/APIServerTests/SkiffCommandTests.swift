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
}
