#if canImport(Glibc)
import CMalloc
#endif

/// Gives the C heap's free pages back to the operating system: after a write that changed
/// very many keys at once, and (``now()``) whenever a server's housekeeping asks.
///
/// Such a write (a DeleteRange over a large prefix, say) briefly holds every row it read
/// and wrote, and glibc keeps what is freed afterwards in its arenas: after the final
/// DeleteRange of `etcdctl check perf --load=l` (338k keys) the server kept 2.3 GB of
/// anonymous memory it no longer used, and 15 MB once trimmed.
public enum HeapTrim {
    /// Writes that made at least this many changes are followed by a trim.
    static let changesThreshold = 10_000

    /// Trims the heap if a write made `changes` changes; cheap writes cost a comparison.
    static func after(changes: Int) {
        guard changes >= changesThreshold else { return }
        now()
    }

    /// Trims the heap now.
    public static func now() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
