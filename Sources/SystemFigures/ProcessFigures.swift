import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process's resource use as Linux's `/proc` tells it (the server's `/metrics` and the
/// benchmarks read the same figures): CPU time, resident and virtual
/// memory, open descriptors and their limit, and start time. Rendered in the Prometheus
/// text format under a prefix: `process` gives the standard process collector's names
/// (`process_resident_memory_bytes` and the rest), which dashboards for kube-apiserver read.
public struct ProcessFigures: Sendable, Equatable {
    public var cpuSeconds: Double
    public var residentBytes: Int64
    public var virtualBytes: Int64
    public var openFileDescriptors: Int
    /// The soft limit on open descriptors (`nil` when unlimited or unknown).
    public var maxFileDescriptors: Int64?
    /// Seconds since the Unix epoch.
    public var startTimeSeconds: Double

    /// This process's figures.
    public static func current() -> ProcessFigures? { read(pid: getpid()) }

    /// The figures of process `pid`, or `nil` if it is gone or unreadable.
    public static func read(pid: Int32) -> ProcessFigures? {
        let directory = "/proc/\(pid)"
        guard let stat = try? String(contentsOfFile: directory + "/stat", encoding: .utf8),
              let fields = statFields(stat) else { return nil }
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let pageSize = Int64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        // After the command's closing parenthesis: state is field 3 of proc(5), so field N
        // is at index N - 3.
        guard fields.count > 21, let user = Double(fields[11]), let system = Double(fields[12]),
              let started = Double(fields[19]), let virtual = Int64(fields[20]), let pages = Int64(fields[21]) else { return nil }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/fd").count) ?? 0
        return ProcessFigures(cpuSeconds: (user + system) / ticks, residentBytes: pages.multipliedReportingOverflow(by: pageSize).partialValue,
                              virtualBytes: virtual, openFileDescriptors: descriptors,
                              maxFileDescriptors: openFileLimit(directory + "/limits"),
                              startTimeSeconds: bootTime() + started / ticks)
    }

    /// The figures as Prometheus text, each metric named `PREFIX_…`; `what` ends each help line.
    public func render(prefix: String, what: String) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP \(prefix)_\(name) \(help) of \(what).\n# TYPE \(prefix)_\(name) \(type)\n\(prefix)_\(name) \(value)\n"
        }
        metric("cpu_seconds_total", "counter", "User and system CPU time spent in seconds", String(cpuSeconds))
        metric("resident_memory_bytes", "gauge", "Resident memory size in bytes", String(residentBytes))
        metric("virtual_memory_bytes", "gauge", "Virtual memory size in bytes", String(virtualBytes))
        metric("open_fds", "gauge", "Number of open file descriptors", String(openFileDescriptors))
        if let maxFileDescriptors { metric("max_fds", "gauge", "Maximum number of open file descriptors", String(maxFileDescriptors)) }
        metric("start_time_seconds", "gauge", "Start time since the Unix epoch in seconds", String(startTimeSeconds))
        return out
    }

    /// The fields of a `/proc/PID/stat` line after the command, which is in parentheses and
    /// may itself hold spaces and parentheses.
    static func statFields(_ line: String) -> [Substring]? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        return line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    }

    /// The soft "Max open files" of a `/proc/PID/limits` file.
    static func openFileLimit(_ path: String) -> Int64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return nil }
        return line.dropFirst("Max open files".count).split(separator: " ").first.flatMap { Int64($0) }
    }

    /// When the machine booted (`btime` of `/proc/stat`), in seconds since the epoch.
    static func bootTime() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }) else { return 0 }
        return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
    }
}
