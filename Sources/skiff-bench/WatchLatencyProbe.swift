import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Watch latency from write to event, measured with the same real clients against any etcd
/// v3 endpoint: `etcdctl watch -i` processes (Go's gRPC client) hold the watches, a Python
/// etcd3 writer (gRPC C core) puts values carrying their send time at a fixed rate, and
/// each printed event's delay is one sample.
struct WatchLatencyProbe {
    var watchers: Int
    var rate: Int
    var seconds: Int
    /// Watches per etcdctl process (each process multiplexes its watches on one stream).
    var watchesPerProcess = 25
    /// If set, every sample is written here as "arrival seconds<TAB>latency ms<TAB>watching process", arrival
    /// counted from the writer's start, to see when slow events happen.
    var samplesFile: String?

    struct Result {
        var samples: Int
        var expected: Int
        var p50: Double
        var p99: Double
    }

    func run(port: Int, writerScript: String) throws -> Result {
        let etcdctl = try which("etcdctl")
        let processes = (watchers + watchesPerProcess - 1) / watchesPerProcess
        let writes = rate * seconds
        let expected = writes * watchers
        let collected = SampleStore()
        var watchersRunning: [Process] = []
        // etcdctl watch -i stops at the end of its input: keep every input open until the end.
        var inputs: [Pipe] = []
        let group = DispatchGroup()
        for p in 0..<processes {
            let watches = min(watchesPerProcess, watchers - p * watchesPerProcess)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: etcdctl)
            process.arguments = ["--endpoints=http://127.0.0.1:\(port)", "watch", "-i"]
            process.environment = ["ETCDCTL_API": "3"]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            for _ in 0..<watches { input.fileHandleForWriting.write(Data("watch --prefix /wl/\n".utf8)) }
            watchersRunning.append(process)
            inputs.append(input)
            group.enter()
            Thread.detachNewThread {
                Self.read(output.fileHandleForReading, process: p, events: writes * watches, into: collected)
                group.leave()
            }
        }
        Thread.sleep(forTimeInterval: 2) // the watches are created
        let writerStart = monotonicNanoseconds()
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: try which("python3"))
        writer.arguments = [writerScript, "127.0.0.1", "\(port)", "\(rate)", "\(seconds)", "/wl/"]
        writer.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try writer.run()
        writer.waitUntilExit()
        _ = group.wait(timeout: .now() + 30)
        for process in watchersRunning { process.terminate() }
        for input in inputs { try? input.fileHandleForWriting.close() }
        if let samplesFile {
            let lines = collected.timed.map {
                String(format: "%.4f\t%.3f\t%d\n", Double(Int64(bitPattern: $0.arrival &- writerStart)) / 1e9, $0.latency, $0.process)
            }
            try lines.joined().write(toFile: samplesFile, atomically: true, encoding: .utf8)
        }
        let sorted = collected.all.sorted()
        return Result(samples: sorted.count, expected: expected, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99))
    }

    /// Reads etcdctl's output and records, for every value line, now minus the time it
    /// carries. The lines of concurrent watches interleave, so only value lines (all digits:
    /// keys start with `/`, event lines are `PUT`) are looked at. The bytes are scanned once,
    /// as they come, with the state of an unfinished line carried to the next read, so the
    /// cost of a read grows with its size and never with the square of it: a reader that
    /// fell behind must not fall further behind and show up as the server's latency.
    private static func read(_ handle: FileHandle, process: Int, events: Int, into store: SampleStore) {
        var received = 0
        var value: UInt64 = 0
        var digits = 0
        var onlyDigits = true
        while received < events {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            let now = monotonicNanoseconds()
            var samples: [SampleStore.Sample] = []
            for byte in chunk {
                switch byte {
                case 0x0A:
                    if onlyDigits, (1...19).contains(digits) {
                        samples.append(SampleStore.Sample(arrival: now, latency: Double(Int64(bitPattern: now &- value)) / 1e6, process: process))
                    }
                    value = 0
                    digits = 0
                    onlyDigits = true
                case 0x30...0x39:
                    value = value &* 10 &+ UInt64(byte - 0x30)
                    digits += 1
                default:
                    onlyDigits = false
                }
            }
            received += samples.count
            store.add(samples)
        }
    }
}

/// Samples gathered by several reader threads.
final class SampleStore: @unchecked Sendable {
    struct Sample {
        /// When the event was read (``monotonicNanoseconds()``).
        var arrival: UInt64
        /// Write to event, in ms.
        var latency: Double
        /// Which watching process printed it.
        var process: Int
    }

    private let lock = NSLock()
    private var samples: [Sample] = []
    func add(_ more: [Sample]) { lock.withLock { samples += more } }
    var count: Int { lock.withLock { samples.count } }
    var all: [Double] { lock.withLock { samples.map(\.latency) } }
    var timed: [Sample] { lock.withLock { samples } }
}

/// CLOCK_MONOTONIC in nanoseconds: the clock Python's time.monotonic_ns reads.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
