import Foundation

/// PATCHes of ConfigMaps at a fixed rate (a Python writer on one keep-alive connection, each
/// patch carrying its send time as `data.stamp`) while `curl` watchers follow the namespace:
/// the patches' round trips, and each event's delay from send to a watcher's read.
struct UpdateUnderWatchers {
    var watchers: Int
    var rate: Int
    var seconds: Int
    /// ConfigMaps the writer patches in turn (each created first).
    var objects = 10

    struct Result {
        var patchP50 = Double.nan
        var patchP99 = Double.nan
        var eventP50 = Double.nan
        var eventP99 = Double.nan
        var events = 0
        var expected = 0
        var errors = 0
    }

    func run(_ target: APITarget, namespace: String, token: String, work: String) throws -> Result {
        let base = target.server + "/api/v1/namespaces/\(namespace)/configmaps"
        let listed = try runProgram(try which("curl"), ["-s", "--cacert", target.caFile, "-H", "authorization: Bearer \(token)",
                                                        "-H", "accept: application/json", base + "?limit=1"])
        guard let json = try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: Any],
              let version = (json["metadata"] as? [String: Any])?["resourceVersion"] as? String else {
            throw BenchmarkError("\(target.name): no resourceVersion in \(listed.prefix(200))")
        }
        // The watchers start before the writer creates its objects: seeing those creations
        // tells that every watch is in place.
        let samples = SampleStore()
        var running: [Process] = []
        // SIGKILL: a watcher must not outlive its measurement and load the next one.
        func stopAll() {
            for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for process in running { process.waitUntilExit() }
        }
        defer { stopAll() }
        let counters = (0..<watchers).map { _ in EventCounter() }
        let group = DispatchGroup()
        for counter in counters {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try which("curl"))
            process.arguments = ["-sN", "--cacert", target.caFile, "-H", "authorization: Bearer \(token)", "-H", "accept: application/json",
                                 base + "?watch=true&resourceVersion=\(version)&timeoutSeconds=\(seconds + 120)"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            running.append(process)
            group.enter()
            Thread.detachNewThread {
                StampScanner.read(out.fileHandleForReading, counter: counter, into: samples)
                group.leave()
            }
        }
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: try which("python3"))
        writer.arguments = [target.scripts + "/api_update_writer.py", target.server, token, target.caFile, namespace,
                            String(rate), String(seconds), String(objects)]
        let input = Pipe(), output = Pipe()
        writer.standardInput = input
        writer.standardOutput = output
        writer.standardError = FileHandle.nullDevice
        try writer.run()
        running.append(writer)
        let ready = Date().addingTimeInterval(60)
        while counters.contains(where: { $0.count < objects }), Date() < ready { Thread.sleep(forTimeInterval: 0.05) }
        guard !counters.contains(where: { $0.count < objects }) else { throw BenchmarkError("\(target.name): the watchers did not all start") }
        input.fileHandleForWriting.write(Data("go\n".utf8))
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        writer.waitUntilExit()
        let expected = rate * seconds * watchers
        let drained = Date().addingTimeInterval(15)
        while samples.count < expected, Date() < drained { Thread.sleep(forTimeInterval: 0.05) }
        stopAll()
        _ = group.wait(timeout: .now() + 10)
        let lines = text.split(separator: "\n")
        let round = lines.compactMap { Double($0) }.sorted()
        let errors = lines.first { $0.hasPrefix("errors ") }.flatMap { Int($0.dropFirst(7)) } ?? -1
        let delays = samples.all.sorted()
        return Result(patchP50: percentile(round, 0.5), patchP99: percentile(round, 0.99), eventP50: percentile(delays, 0.5),
                      eventP99: percentile(delays, 0.99), events: delays.count, expected: expected, errors: errors)
    }
}

/// How many events one watcher has read.
final class EventCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = 0
    var count: Int { lock.withLock { seen } }
    func add(_ n: Int) { lock.withLock { seen += n } }
}

/// Finds `"stamp":"DIGITS"` in a watch's JSON lines as the bytes come (one pass, state
/// carried across reads) and records now minus the stamp for each non-zero one.
enum StampScanner {
    static let marker = Array(#""stamp":""#.utf8)

    static func read(_ handle: FileHandle, counter: EventCounter, into store: SampleStore) {
        var matched = 0
        var inDigits = false
        var value: UInt64 = 0
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            let now = monotonicNanoseconds()
            var found: [SampleStore.Sample] = []
            var lines = 0
            for byte in chunk {
                if byte == 0x0A { lines += 1 }
                if inDigits {
                    if byte >= 0x30 && byte <= 0x39 {
                        value = value &* 10 &+ UInt64(byte - 0x30)
                        continue
                    }
                    inDigits = false
                    if value > 0 { found.append(SampleStore.Sample(arrival: now, latency: Double(Int64(bitPattern: now &- value)) / 1e6, process: 0)) }
                }
                if byte == marker[matched] {
                    matched += 1
                    if matched == marker.count {
                        matched = 0
                        inDigits = true
                        value = 0
                    }
                } else {
                    matched = byte == marker[0] ? 1 : 0
                }
            }
            counter.add(lines)
            store.add(found)
        }
    }
}
