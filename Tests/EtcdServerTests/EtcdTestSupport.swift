import Foundation
import TestSupport
import Testing

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
