import Foundation
import TestSupport
import Testing

/// A real `skiff etcd` process on a free loopback port with its own data directory.
final class SkiffEtcd: TestServerProcess, @unchecked Sendable {
    let endpoint: String

    init(extraArguments: [String] = [], dataDir: String? = nil, scheme: String = "http") throws {
        let dataDir = dataDir ?? NSTemporaryDirectory() + "skiff-etcd-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct("skiff"))
        process.arguments = ["etcd", "--data-dir", dataDir, "--listen-client-urls", "\(scheme)://127.0.0.1:0"] + extraArguments
        endpoint = try startAnnouncedProcess(process) { text in
            guard let range = text.range(of: "on \(scheme)://127.0.0.1:"),
                  let end = text[range.upperBound...].firstIndex(of: " ") else { return nil }
            return "\(scheme)://127.0.0.1:" + text[range.upperBound..<end]
        }
        super.init(process: process, dataDir: dataDir)
    }

    /// Runs etcdctl (v3 API) against this server.
    @discardableResult
    func etcdctl(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 120) throws -> CommandOutput {
        try run(try which("etcdctl"), ["--endpoints=\(endpoint)", "--dial-timeout=5s", "--command-timeout=30s"] + arguments,
                stdin: stdin, environment: ["ETCDCTL_API": "3"], timeout: timeout)
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
