import CSQLite3

/// The writes one WAL file handle has been given but not yet passed to the operating
/// system: a contiguous run of the file, from `start`.
///
/// SQLite writes a WAL frame as two writes (its 24-byte header, then the page) and a
/// commit as one frame per changed page; handed down one by one, a commit of ten pages
/// costs twenty `pwrite` calls, each a separate trip through the kernel's page cache for
/// a few kilobytes that straddle page boundaries. Gathered here, they go down as one
/// write when the transaction's commit frame is complete, which is the moment SQLite
/// would have finished writing anyway: before it publishes the commit in the WAL index,
/// syncs, or lets anyone read. So other connections, a crash or a power loss see exactly
/// what they would have seen without the buffer.
///
/// One SQLite connection uses a file handle at a time, so the buffer needs no lock.
final class WALWriteBuffer {
    /// The most one write may carry: SQLite's Unix VFS passes at most 128 KiB − 1 to a
    /// single `pwrite` (it masks longer lengths, and reports the short write as a full
    /// disk). A run that would grow past it is written out first, so a commit of up to
    /// about 31 frames of 4 KiB pages is one write, and a larger one a write per 31.
    static let limit = 0x1_FFFF

    /// The WAL file format's sizes: a 32-byte file header, then frames of a 24-byte
    /// header and a page. A frame header's bytes 4–7 are the database size in pages
    /// after a commit, and zero in every other frame.
    static let fileHeaderSize: Int64 = 32
    static let frameHeaderSize = 24

    private var bytes: [UInt8] = []
    private var start: Int64 = 0
    /// Whether the last frame header written ends a transaction: its page completes the commit.
    private var commitFramePending = false

    /// Takes a write of `count` bytes at `offset`; writes what is held to `file` first when
    /// the new write does not continue it, and everything once a commit frame is complete.
    func write(_ data: UnsafeRawPointer, count: Int, at offset: Int64, to file: UnsafeMutablePointer<sqlite3_file>) -> Int32 {
        let end = start + Int64(bytes.count)
        if !bytes.isEmpty, offset >= start, offset + Int64(count) <= end {
            // A page rewritten in place within the held run (SQLite does this for a page
            // changed twice in one transaction).
            let at = Int(offset - start)
            bytes.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: at).copyMemory(from: data, byteCount: count) }
            return SQLITE_OK
        }
        if !bytes.isEmpty, offset != end || bytes.count + count > Self.limit {
            let rc = flush(to: file)
            guard rc == SQLITE_OK else { return rc }
        }
        if bytes.isEmpty { start = offset }
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
        if count == Self.frameHeaderSize, offset >= Self.fileHeaderSize {
            commitFramePending = data.loadUnaligned(fromByteOffset: 4, as: UInt32.self) != 0
            return SQLITE_OK
        }
        if commitFramePending {
            commitFramePending = false
            return flush(to: file)
        }
        return SQLITE_OK
    }

    /// Passes what is held to `file` in one write. What could not be written is dropped:
    /// the write that fails fails its transaction, which SQLite then rolls back.
    func flush(to file: UnsafeMutablePointer<sqlite3_file>) -> Int32 {
        guard !bytes.isEmpty else { return SQLITE_OK }
        let rc = bytes.withUnsafeBytes { held in
            file.pointee.pMethods.pointee.xWrite(file, held.baseAddress, Int32(held.count), start)
        }
        bytes.removeAll(keepingCapacity: true)
        commitFramePending = false
        return rc
    }
}
