import Foundation

/// The resident memory of process `pid` as the kernel counts it (VmRSS), in bytes.
public func residentBytes(of pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kB = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
    return kB * 1024
}
