import ArgumentParser
import Foundation
import KineLayer
import Storage

/// Write throughput of the key-value log with group commit on and off, and the size of the
/// database file after many updates of one key, with and without compaction.
struct KineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kine",
        abstract: "Writes/s of sequential and concurrent creates, group commit on vs off; file size under rewrites.")

    @Option(help: "Creates in the sequential runs.")
    var sequential: Int = 3_000

    @Option(help: "Creates in the concurrent runs.")
    var concurrentWrites: Int = 30_000

    @Option(help: "Concurrent writer tasks.")
    var concurrency: Int = 64

    @Option(help: "Updates of one key in the file-size runs.")
    var updates: Int = 100_000

    @Option(help: "Where to put the benchmark databases (a temporary directory by default).")
    var workDir: String?

    func run() async throws {
        let root = workDir ?? NSTemporaryDirectory() + "skiff-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if workDir == nil { try? FileManager.default.removeItem(atPath: root) } }

        print("Skiff kine benchmark: embedded SQLite, WAL, synchronous=FULL, value 256 bytes")
        print("")
        print(pad("run", 44) + pad("writes", 10) + pad("seconds", 10) + "writes/s")
        var rates: [String: Double] = [:]
        for (label, mode) in [("group commit on", CommitMode.group()), ("group commit off", CommitMode.serial)] {
            let seq = try await measureCreates(root: root, name: "seq-\(mode)", mode: mode, total: sequential, tasks: 1)
            report("sequential creates, \(label)", sequential, seq)
            rates["seq \(label)"] = Double(sequential) / seq
            let conc = try await measureCreates(root: root, name: "conc-\(mode)", mode: mode, total: concurrentWrites, tasks: concurrency)
            report("\(concurrency)-concurrent creates, \(label)", concurrentWrites, conc)
            rates["conc \(label)"] = Double(concurrentWrites) / conc
        }
        print("")
        print(String(format: "ratio group/serial, sequential:      %.2f", rates["seq group commit on"]! / rates["seq group commit off"]!))
        print(String(format: "ratio group/serial, %d-concurrent:   %.2f", concurrency, rates["conc group commit on"]! / rates["conc group commit off"]!))
        print("")

        print(pad("file size after \(updates) updates of one key", 44) + pad("MiB", 10) + "seconds")
        let compacted = try await measureRewrites(root: root, name: "compacted", compaction: true)
        print(pad("compaction on (every 1 s, keep 1000 revs)", 44) + pad(String(format: "%.2f", compacted.mib), 10) + String(format: "%.1f", compacted.seconds))
        let uncompacted = try await measureRewrites(root: root, name: "uncompacted", compaction: false)
        print(pad("compaction off", 44) + pad(String(format: "%.2f", uncompacted.mib), 10) + String(format: "%.1f", uncompacted.seconds))
        print(String(format: "ratio compacted/uncompacted size: %.3f", compacted.mib / uncompacted.mib))
    }

    private func measureCreates(root: String, name: String, mode: CommitMode, total: Int, tasks: Int) async throws -> Double {
        var options = KineOptions()
        options.commitMode = mode
        options.compactionInterval = nil
        let store = try await KineStore.open(directory: root + "/" + name, options: options)
        let value = [UInt8](repeating: 0x61, count: 256)
        let perTask = total / tasks
        let start = ContinuousClock.now
        try await withThrowingDiscardingTaskGroup { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask {
                        try await store.create(Array("/bench/\(t)/\(i)".utf8), value: value)
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        await store.close()
        return elapsed.seconds
    }

    private func measureRewrites(root: String, name: String, compaction: Bool) async throws -> (mib: Double, seconds: Double) {
        var options = KineOptions()
        options.compactionInterval = compaction ? .seconds(1) : nil
        options.compactionPolicy = RetainRevisions(1_000)
        let store = try await KineStore.open(directory: root + "/" + name, options: options)
        let value = [UInt8](repeating: 0x62, count: 256)
        let key = Array("/bench/one-key".utf8)
        let writers = 16
        let start = ContinuousClock.now
        try await withThrowingDiscardingTaskGroup { group in
            for _ in 0..<writers {
                group.addTask {
                    for _ in 0..<(updates / writers) { try await store.put(key, value: value) }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        if compaction { try await store.compactNow() } else { try await store.database.reclaimSpace() }
        let size = try await store.database.sizeInBytes()
        await store.close()
        return (Double(size) / 1_048_576, elapsed.seconds)
    }

    private func report(_ label: String, _ writes: Int, _ seconds: Double) {
        print(pad(label, 44) + pad("\(writes)", 10) + pad(String(format: "%.2f", seconds), 10) + String(format: "%.0f", Double(writes) / seconds))
    }
}

/// `s` padded with spaces to `width` columns (at least one space after it).
func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
