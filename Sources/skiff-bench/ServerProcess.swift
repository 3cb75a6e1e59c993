import Foundation
import SystemFigures

/// A server started for a benchmark on loopback, stopped (SIGTERM) by ``stop()``.
final class ServerProcess {
    let name: String
    let port: Int
    let dataDir: String
    private let process: Process

    convenience init(name: String, executable: String, arguments: [String], port: Int, dataDir: String) throws {
        try self.init(adopting: try Self.launch(name: name, executable: executable, arguments: arguments),
                      name: name, port: port, dataDir: dataDir)
    }

    /// Takes over a process started with ``launch(name:executable:arguments:)`` and waits
    /// until it listens on `port`.
    init(adopting process: Process, name: String, port: Int, dataDir: String) throws {
        self.process = process
        self.name = name
        self.port = port
        self.dataDir = dataDir
        try waitForPort()
    }

    /// Starts a server without waiting for it; its output goes to a log beside the
    /// benchmark's temporary files.
    static func launch(name: String, executable: String, arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let log = NSTemporaryDirectory() + "skiff-bench-\(name).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }

    private func waitForPort() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.canConnect(port) { return }
            guard process.isRunning else { throw BenchmarkError("\(name) exited at start") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BenchmarkError("\(name) did not listen on port \(port) within 30 s")
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A free loopback port (bound once, then released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: bound.sin_port))
    }

    /// Resident memory of the process, in MiB.
    var residentMiB: Double { Self.residentMiB(of: process.processIdentifier) }

    /// The resident memory of the server and its child processes (a dqlite member's node).
    var residentMiBWithChildren: Double {
        childProcesses(of: process.processIdentifier).reduce(residentMiB) { $0 + Self.residentMiB(of: $1) }
    }

    /// The bytes the server's data directory takes on disk (allocated blocks, as `du`).
    var diskMiB: Double {
        guard let out = try? runProgram("/usr/bin/du", ["-sk", dataDir]), let kib = Double(out.split(separator: "\t").first ?? "") else { return 0 }
        return kib / 1024
    }

    static func residentMiB(of pid: Int32) -> Double {
        Double(ProcessFigures.read(pid: pid)?.residentBytes ?? 0) / 1_048_576
    }

    /// CPU time the process has used so far (user + system), in seconds.
    var cpuSeconds: Double { ProcessFigures.read(pid: process.processIdentifier)?.cpuSeconds ?? 0 }

    /// kill -9 of the server and its child processes at once, as when its machine dies
    /// (its data stays, for a restart).
    func kill9() {
        guard process.isRunning else { return }
        for child in childProcesses(of: process.processIdentifier) { kill(child, SIGKILL) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dataDir)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Finds a program on the PATH.
func which(_ name: String) throws -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw BenchmarkError("\(name) is not installed (scripts/install-deps installs it)")
}

/// Percentile of sorted samples.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// The child processes of `pid` (spawned by any of its threads), from /proc.
func childProcesses(of pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.flatMap { task -> [Int32] in
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }
}

/// Runs a program and returns its standard output.
func runProgram(_ executable: String, _ arguments: [String]) throws -> String {
    try runToExit(executable, arguments).output
}

/// Runs a program, its output discarded, and returns its exit status.
func programStatus(_ executable: String, _ arguments: [String]) throws -> Int32 {
    try runToExit(executable, arguments).status
}

/// Runs a program to its end: its exit status and standard output (standard error is discarded).
private func runToExit(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
