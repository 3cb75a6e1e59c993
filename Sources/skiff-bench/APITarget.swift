import Foundation

/// One API server under test, reached through an admin kubeconfig: its address and CA, the
/// credentials the load uses (prepared with kubectl, as any cluster's admin would), and how
/// to read its memory.
struct APITarget {
    let name: String
    let kubeconfig: String
    /// `https://host:port`.
    let server: String
    /// The cluster's CA certificate, as a file.
    let caFile: String
    let staticToken: String?
    let memory: (() -> Double)?
    let scripts: String

    init(name: String, kubeconfig: String, work: String, staticToken: String?, memory: (() -> Double)?) throws {
        self.name = name
        self.kubeconfig = kubeconfig
        self.staticToken = staticToken
        self.memory = memory
        scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/bench").standardized.path
        let kubectl = try which("kubectl")
        func view(_ path: String) throws -> String {
            try runProgram(kubectl, ["--kubeconfig", kubeconfig, "config", "view", "--raw", "--minify", "-o", "jsonpath={\(path)}"])
        }
        server = try view(".clusters[0].cluster.server")
        guard server.hasPrefix("https://") else { throw BenchmarkError("\(kubeconfig): no https server") }
        caFile = work + "/\(name)-ca.crt"
        let data = try view(".clusters[0].cluster.certificate-authority-data")
        if let decoded = Data(base64Encoded: data), !decoded.isEmpty {
            try decoded.write(to: URL(fileURLWithPath: caFile))
        } else {
            let path = try view(".clusters[0].cluster.certificate-authority")
            guard !path.isEmpty else { throw BenchmarkError("\(kubeconfig): no CA") }
            try FileManager.default.copyItem(atPath: path, toPath: caFile)
        }
    }

    /// Makes the namespace, and for service account authentication an account with a Role
    /// on ConfigMaps in it; returns the token the load presents.
    func prepare(namespace: String, auth: APIBenchmark.AuthMode) throws -> String {
        try kubectl(["create", "namespace", namespace])
        try kubectl(["create", "namespace", namespace + "-churn"])
        switch auth {
        case .static:
            guard let staticToken else { throw BenchmarkError("--auth static needs the \(name)'s admin token (--peer-token)") }
            return staticToken
        case .serviceaccount:
            try kubectl(["-n", namespace, "create", "serviceaccount", "bench"])
            for ns in [namespace, namespace + "-churn"] {
                try kubectl(["-n", ns, "create", "role", "bench", "--verb=*", "--resource=configmaps"])
                try kubectl(["-n", ns, "create", "rolebinding", "bench", "--role=bench", "--serviceaccount=\(namespace):bench"])
            }
            let token = try kubectl(["-n", namespace, "create", "token", "bench", "--duration=2h"]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw BenchmarkError("\(name): no token") }
            return token
        }
    }

    @discardableResult
    func kubectl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try which("kubectl"))
        process.arguments = ["--kubeconfig", kubeconfig] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkError("\(name): kubectl \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The bytes one LIST takes on the wire (with `Accept-Encoding: gzip` if asked).
    func downloadedBytes(_ url: String, token: String, gzip: Bool) throws -> Double {
        let out = try runProgram(try which("curl"), ["-s", "--cacert", caFile, "-H", "authorization: Bearer \(token)",
                                                     "-H", "accept: application/json", "-o", "/dev/null", "-w", "%{size_download}"]
                                 + (gzip ? ["-H", "accept-encoding: gzip"] : []) + [url])
        return Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
    }

    /// The median time to read every page of the namespace's ConfigMaps.
    func pagedList(namespace: String, token: String, limit: Int) throws -> Double {
        let out = try runProgram(try which("python3"), [scripts + "/api_paged_list.py", server, token, caFile, namespace, String(limit), "5"])
        guard let ms = out.split(separator: " ").firstIndex(of: "median_ms").flatMap({ i in Double(out.split(separator: " ")[i + 1]) }) else {
            throw BenchmarkError("\(name): paged list: \(out)")
        }
        return ms
    }

    /// The churn of Python writers and informers, as the script reports it.
    func churn(namespace: String, token: String, seconds: Int, rate: Int, work: String) throws -> ChurnResult {
        let config = work + "/\(name)-token.kubeconfig"
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "\(server)", certificate-authority: "\(caFile)"}}]
            users: [{name: u, user: {token: "\(token)"}}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            current-context: c
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let out = try runProgram(try which("python3"), [scripts + "/api_churn.py", config, namespace, String(seconds), "8", "20", String(rate)])
        let words = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        func value(_ name: String) -> Double {
            words.firstIndex(of: name).flatMap { $0 + 1 < words.count ? Double(words[$0 + 1]) : nil } ?? .nan
        }
        guard !value("writes").isNaN else { throw BenchmarkError("\(name): churn: \(out)") }
        return ChurnResult(writes: value("writes"), errors: value("errors"), events: value("events"),
                           lagP50: value("lag_p50_ms"), lagP99: value("lag_p99_ms"))
    }
}

struct ChurnResult: CustomStringConvertible {
    var writes = Double.nan
    var errors = Double.nan
    var events = Double.nan
    var lagP50 = Double.nan
    var lagP99 = Double.nan

    var description: String {
        String(format: "%.0f writes, %.0f errors, %.0f events, lag p50 %.1f ms, p99 %.1f ms", writes, errors, events, lagP50, lagP99)
    }
}
