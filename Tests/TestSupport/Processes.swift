import Foundation

/// The path of an executable product built beside the test bundle.
public func builtProduct(_ name: String) throws -> String {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else { throw ProgramMissing(name: path) }
    return path
}

/// Finds a program on the PATH.
public func which(_ name: String) throws -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw ProgramMissing(name: name)
}

/// A program the tests need is not there.
public struct ProgramMissing: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "\(name) is not installed (scripts/install-deps installs it)" }
}

/// What a finished command printed.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a command to completion (terminating it after `timeout` seconds) and collects its output.
@discardableResult
public func run(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                timeout: TimeInterval = 120) throws -> CommandOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = environment
    // kubectl caches discovery per host:port under ~/.kube/cache; test servers reuse ports, so a
    // cache left by an earlier server would answer for a later one. Each kubectl run gets its own.
    let kubectlCache = executable.hasSuffix("/kubectl") && environment["KUBECACHEDIR"] == nil
        ? NSTemporaryDirectory() + "skiff-kubecache-" + UUID().uuidString : nil
    if let kubectlCache { environment["KUBECACHEDIR"] = kubectlCache }
    defer { if let kubectlCache { try? FileManager.default.removeItem(atPath: kubectlCache) } }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    // Read both pipes at once so that neither fills up and blocks the child.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    killer.cancel()
    return CommandOutput(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

