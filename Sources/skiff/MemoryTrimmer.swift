import KineLayer

/// Gives memory freed by finished requests and closed connections back to the system.
/// glibc's allocator keeps freed pages in its arenas: after 1,000 connections closed, a
/// server measured here held 100 MB it no longer used until `malloc_trim` ran. Go's runtime
/// returns such memory on its own; this does it every `interval`.
enum MemoryTrimmer {
    /// Trims until cancelled (a service of its command: it never ends on its own).
    static func run(every interval: Duration = .seconds(15)) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            HeapTrim.now()
        }
    }
}
