import Foundation
import Testing
@testable import APIServer

/// Runs the built `skiff` binary and returns its exit status and standard output.
func runSkiff(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("skiff")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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
