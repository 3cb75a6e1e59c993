import ArgumentParser
import Foundation

/// `skiff-bench api`: the Kubernetes API server under HTTP/2 load from h2load (Debian's
/// nghttp2-client): GET of one ConfigMap, CREATE of ConfigMaps, LIST of 10,000 ConfigMaps,
/// a watch replaying them (read by curl), the GET, LIST and watch once in JSON and once in
/// Kubernetes protobuf (`Accept: application/vnd.kubernetes.protobuf`, as Go clients ask),
/// and the server's resident memory idle and after 10,000 objects.
struct APIBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Kubernetes API request rates and p99 latencies over HTTP/2 (h2load), and server memory.")

    @Option(help: "The skiff binary (default: beside this one).")
    var skiff: String?

    @Option(help: "ConfigMaps to create (the LIST reads them all).")
    var objects = 10_000

    @Option(help: "GET requests to send.")
    var gets = 20_000

    @Option(help: "h2load clients (connections).")
    var clients = 10

    @Option(help: "Concurrent streams per client.")
    var streams = 10

    func run() throws {
        let binary = skiff ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skiff").path
        let h2load = try which("h2load")
        let work = NSTemporaryDirectory() + "skiff-bench-api-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let token = UUID().uuidString
        try "\(token),bench,1,system:masters\n".write(toFile: work + "/tokens.csv", atomically: true, encoding: .utf8)
        let port = ServerProcess.freePort()
        let server = try ServerProcess(name: "skiff-server", executable: binary,
                                       arguments: ["server", "--data-dir", work + "/data", "--listen", "127.0.0.1:\(port)",
                                                   "--token-auth-file", work + "/tokens.csv", "--log-level", "warning"],
                                       port: port, dataDir: work + "/data")
        defer { server.stop() }
        Thread.sleep(forTimeInterval: 2)
        let idle = server.residentMiB
        let base = "https://127.0.0.1:\(port)/api/v1/namespaces/default/configmaps"
        let headers = ["-H", "authorization: Bearer \(token)", "-H", "content-type: application/json", "-H", "accept: application/json"]

        try #"{"metadata":{"name":"bench-get"},"data":{"key":"value"}}"#.write(toFile: work + "/one.json", atomically: true, encoding: .utf8)
        _ = try load(h2load, ["-n", "1", "-c", "1", "-d", work + "/one.json"] + headers + [base], work: work)
        let body = #"{"metadata":{"generateName":"bench-"},"data":{"key":"a value of some thirty bytes.."}}"#
        try body.write(toFile: work + "/create.json", atomically: true, encoding: .utf8)

        print("Kubernetes API over HTTP/2 (h2load, \(clients) connections x \(streams) streams), TLS, token auth")
        let create = try load(h2load, ["-n", String(objects), "-c", String(clients), "-m", String(streams), "-d", work + "/create.json"]
                                + headers + [base], work: work)
        print(create.line("CREATE configmap"))
        let loaded = server.residentMiB
        for (format, accept) in [("JSON", "application/json"), ("protobuf", "application/vnd.kubernetes.protobuf")] {
            let negotiated = ["-H", "authorization: Bearer \(token)", "-H", "accept: \(accept)"]
            let get = try load(h2load, ["-n", String(gets), "-c", String(clients), "-m", String(streams)] + negotiated
                                + [base + "/bench-get"], work: work)
            print(get.line("GET one configmap, \(format)"))
            let list = try load(h2load, ["-n", "20", "-c", "1", "-m", "1"] + negotiated + [base], work: work)
            print(list.line("LIST \(objects + 1), \(format)"))
            let watch = try watchReplay(url: base + "?watch=true&timeoutSeconds=120", token: token, accept: accept, events: objects)
            print(String(format: "%@: %d events in %.0f ms (%.0f events/s), %.1f MiB read",
                         "WATCH \(objects) ADDED, \(format)".padding(toLength: 24, withPad: " ", startingAt: 0),
                         watch.events, watch.seconds * 1000, Double(watch.events) / watch.seconds, Double(watch.bytes) / 1_048_576))
        }
        print(String(format: "server RSS: %.1f MiB idle, %.1f MiB after %d objects (%.1f KiB per object)",
                     idle, loaded, objects, (loaded - idle) * 1024 / Double(objects)))
    }

    struct LoadResult {
        var requests: Int
        var succeeded: Int
        var perSecond: Double
        var p50: Double
        var p99: Double

        func line(_ name: String) -> String {
            String(format: "%@: %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d of %d succeeded)",
                   name.padding(toLength: 24, withPad: " ", startingAt: 0), perSecond, p50, p99, succeeded, requests)
        }
    }

    /// Opens a watch with curl and reads its stream until `events` events have arrived (JSON
    /// lines, or length-prefixed protobuf frames): how fast the server writes a watch's
    /// initial events in that encoding.
    func watchReplay(url: String, token: String, accept: String, events: Int) throws
        -> (events: Int, seconds: Double, bytes: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try which("curl"))
        process.arguments = ["-sk", "-N", "-H", "authorization: Bearer \(token)", "-H", "accept: \(accept)", url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let started = Date()
        try process.run()
        defer { if process.isRunning { process.terminate() }; process.waitUntilExit() }
        let protobuf = accept.contains("protobuf")
        var buffer: [UInt8] = []
        var seen = 0, bytes = 0, offset = 0
        while seen < events {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            bytes += chunk.count
            buffer.append(contentsOf: chunk)
            if protobuf {
                while buffer.count - offset >= 4 {
                    let length = buffer[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
                    guard buffer.count - offset - 4 >= length else { break }
                    offset += 4 + length
                    seen += 1
                }
            } else {
                while let newline = buffer[offset...].firstIndex(of: UInt8(ascii: "\n")) {
                    offset = newline + 1
                    seen += 1
                }
            }
            if offset > 1 << 20 { buffer.removeFirst(offset); offset = 0 }
        }
        return (seen, Date().timeIntervalSince(started), bytes)
    }

    /// Runs h2load and reads its rate and, from its per-request log, the latency percentiles.
    func load(_ h2load: String, _ arguments: [String], work: String) throws -> LoadResult {
        let log = work + "/h2load.log"
        try? FileManager.default.removeItem(atPath: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: h2load)
        process.arguments = ["--log-file", log] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func number(after marker: String, in line: String) -> Double? {
            guard let range = line.range(of: marker) else { return nil }
            return Double(line[..<range.lowerBound].split(separator: " ").last ?? "")
        }
        let lines = text.split(separator: "\n").map(String.init)
        let rate = lines.compactMap { number(after: " req/s", in: $0) }.first ?? 0
        let requestsLine = lines.first { $0.hasPrefix("requests:") } ?? ""
        let total = Int(number(after: " total", in: requestsLine) ?? 0)
        let succeeded = Int(number(after: " succeeded", in: requestsLine) ?? 0)
        // Log lines: start time (µs), status, elapsed (µs).
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let samples = logText.split(separator: "\n").compactMap { line -> Double? in
            let fields = line.split(separator: "\t")
            return fields.count >= 3 ? Double(fields[2]).map { $0 / 1000 } : nil
        }.sorted()
        guard succeeded > 0 else { throw BenchmarkError("h2load failed: \(text)") }
        return LoadResult(requests: total, succeeded: succeeded, perSecond: rate,
                          p50: percentile(samples, 0.5), p99: percentile(samples, 0.99))
    }
}
