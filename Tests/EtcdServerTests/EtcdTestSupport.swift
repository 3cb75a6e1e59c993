import Foundation
import Testing

/// The path of an executable product built beside the test bundle.
func builtProduct(_ name: String) throws -> String {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
}

/// What a finished command printed.
struct CommandOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion (killing it after `timeout` seconds) and collects its output.
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
         timeout: TimeInterval = 120) throws -> CommandOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
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
    // Read both pipes concurrently so that neither fills up and blocks the child.
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

/// Finds a program on the PATH.
func which(_ name: String) throws -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw ProgramMissing(name: name)
}

struct ProgramMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "\(name) is not installed (scripts/install-deps installs it)" }
}

/// A real `skiff etcd` process on a free loopback port with its own data directory.
final class SkiffEtcd: @unchecked Sendable {
    let process = Process()
    let dataDir: String
    private(set) var endpoint = ""

    init(extraArguments: [String] = [], dataDir: String? = nil, scheme: String = "http") throws {
        self.dataDir = dataDir ?? NSTemporaryDirectory() + "skiff-etcd-" + UUID().uuidString
        process.executableURL = URL(fileURLWithPath: try builtProduct("skiff"))
        process.arguments = ["etcd", "--data-dir", self.dataDir, "--listen-client-urls", "\(scheme)://127.0.0.1:0"] + extraArguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        // The first line names the port it bound.
        var buffer = Data()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: "on \(scheme)://127.0.0.1:"),
               let end = text[range.upperBound...].firstIndex(of: " ") {
                endpoint = "\(scheme)://127.0.0.1:" + text[range.upperBound..<end]
                break
            }
        }
        guard !endpoint.isEmpty else {
            process.terminate()
            throw StartFailed(output: String(decoding: buffer, as: UTF8.self))
        }
    }

    struct StartFailed: Error { let output: String }

    /// Runs etcdctl (v3 API) against this server.
    @discardableResult
    func etcdctl(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 120) throws -> CommandOutput {
        try run(try which("etcdctl"), ["--endpoints=\(endpoint)", "--dial-timeout=5s", "--command-timeout=30s"] + arguments,
                stdin: stdin, environment: ["ETCDCTL_API": "3"], timeout: timeout)
    }

    /// Stops the server with SIGTERM and waits for it.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Stops the server and removes its data.
    func destroy() {
        stop()
        try? FileManager.default.removeItem(atPath: dataDir)
    }
}

/// Decodes etcdctl's `-w json` output.
func json(_ text: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw BadJSON(text: text)
    }
    return object
}

struct BadJSON: Error { let text: String }

extension Dictionary where Key == String, Value == Any {
    /// An integer field of etcdctl's JSON (it writes 64-bit numbers as numbers).
    func int(_ key: String) -> Int64? { (self[key] as? NSNumber)?.int64Value }
    func object(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
    func array(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
}

/// Base64 as etcdctl's JSON writes keys and values.
func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
func unb64(_ s: Any?) -> String { (s as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
