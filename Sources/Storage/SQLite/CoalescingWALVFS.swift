import CSQLite3
#if canImport(Glibc)
import Glibc
#endif

/// A SQLite VFS that is the default one except for WAL files, whose writes a
/// ``WALWriteBuffer`` gathers into one write per commit.
///
/// Every other file, and every VFS operation, goes straight to the default VFS (with that
/// VFS's own object, since the Unix VFS keeps its locking style in it). A WAL file handle
/// is laid out as the default VFS's handle behind a small header of ours:
///
///     [ sqlite3_file (our methods) | WALWriteBuffer reference | the default VFS's handle ]
enum CoalescingWALVFS {
    /// The name to open connections with, once the VFS is registered (`nil` if SQLite
    /// had no default VFS to wrap, or refused the registration).
    static let name: String? = register()

    private static let vfsName = "skiff-coalescing-wal"
    /// Our part of a WAL handle: its method table pointer and the buffer reference.
    private static let headerSize = 16

    private static func register() -> String? {
        guard let base = sqlite3_vfs_find(nil) else { return nil }
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: sqlite3_vfs())
        // Version 2 adds xCurrentTimeInt64 only; the system-call overrides of version 3 stay the base's own.
        vfs.pointee.iVersion = min(base.pointee.iVersion, 2)
        vfs.pointee.szOsFile = base.pointee.szOsFile + Int32(headerSize)
        vfs.pointee.mxPathname = base.pointee.mxPathname
        vfs.pointee.zName = UnsafePointer(strdup(vfsName))
        vfs.pointee.pAppData = UnsafeMutableRawPointer(base)
        vfs.pointee.xOpen = { vfs, name, file, flags, outFlags in
            let base = CoalescingWALVFS.base(vfs)
            guard flags & SQLITE_OPEN_WAL != 0, let file else {
                return base.pointee.xOpen(base, name, file, flags, outFlags)
            }
            file.pointee.pMethods = nil
            let rc = base.pointee.xOpen(base, name, CoalescingWALVFS.real(file), flags, outFlags)
            guard rc == SQLITE_OK else { return rc }
            CoalescingWALVFS.header(file).storeBytes(of: Unmanaged.passRetained(WALWriteBuffer()).toOpaque(), as: UnsafeMutableRawPointer.self)
            file.pointee.pMethods = UnsafePointer(CoalescingWALVFS.walMethods)
            return SQLITE_OK
        }
        vfs.pointee.xDelete = { vfs, name, syncDirectory in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xDelete(base, name, syncDirectory)
        }
        vfs.pointee.xAccess = { vfs, name, flags, result in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xAccess(base, name, flags, result)
        }
        vfs.pointee.xFullPathname = { vfs, name, count, output in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xFullPathname(base, name, count, output)
        }
        vfs.pointee.xDlOpen = { vfs, name in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xDlOpen(base, name)
        }
        vfs.pointee.xDlError = { vfs, count, message in
            let base = CoalescingWALVFS.base(vfs)
            base.pointee.xDlError(base, count, message)
        }
        vfs.pointee.xDlSym = { vfs, handle, symbol in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xDlSym(base, handle, symbol)
        }
        vfs.pointee.xDlClose = { vfs, handle in
            let base = CoalescingWALVFS.base(vfs)
            base.pointee.xDlClose(base, handle)
        }
        vfs.pointee.xRandomness = { vfs, count, output in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xRandomness(base, count, output)
        }
        vfs.pointee.xSleep = { vfs, microseconds in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xSleep(base, microseconds)
        }
        vfs.pointee.xCurrentTime = { vfs, time in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xCurrentTime(base, time)
        }
        vfs.pointee.xGetLastError = { vfs, count, message in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xGetLastError(base, count, message)
        }
        vfs.pointee.xCurrentTimeInt64 = { vfs, time in
            let base = CoalescingWALVFS.base(vfs)
            return base.pointee.xCurrentTimeInt64(base, time)
        }
        guard sqlite3_vfs_register(vfs, 0) == SQLITE_OK else { return nil }
        return vfsName
    }

    /// The methods of a WAL handle: writes go to its buffer; anything that reads, sizes,
    /// syncs, truncates, controls or closes the file writes the buffer out first.
    nonisolated(unsafe) private static let walMethods: UnsafeMutablePointer<sqlite3_io_methods> = {
        let m = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        m.initialize(to: sqlite3_io_methods())
        m.pointee.iVersion = 1
        m.pointee.xClose = { file in
            let f = CoalescingWALVFS.real(file!)
            let held = Unmanaged<WALWriteBuffer>.fromOpaque(CoalescingWALVFS.header(file!).load(as: UnsafeMutableRawPointer.self))
            let flushed = held.takeUnretainedValue().flush(to: f)
            held.release()
            let closed = f.pointee.pMethods.pointee.xClose(f)
            return flushed != SQLITE_OK ? flushed : closed
        }
        m.pointee.xRead = { file, data, count, offset in
            CoalescingWALVFS.afterFlush(file) { $0.pointee.pMethods.pointee.xRead($0, data, count, offset) }
        }
        m.pointee.xWrite = { file, data, count, offset in
            CoalescingWALVFS.buffer(file!).write(data!, count: Int(count), at: offset, to: CoalescingWALVFS.real(file!))
        }
        m.pointee.xTruncate = { file, size in
            CoalescingWALVFS.afterFlush(file) { $0.pointee.pMethods.pointee.xTruncate($0, size) }
        }
        m.pointee.xSync = { file, flags in
            CoalescingWALVFS.afterFlush(file) { $0.pointee.pMethods.pointee.xSync($0, flags) }
        }
        m.pointee.xFileSize = { file, size in
            CoalescingWALVFS.afterFlush(file) { $0.pointee.pMethods.pointee.xFileSize($0, size) }
        }
        m.pointee.xLock = { file, level in
            let f = CoalescingWALVFS.real(file!)
            return f.pointee.pMethods.pointee.xLock(f, level)
        }
        m.pointee.xUnlock = { file, level in
            let f = CoalescingWALVFS.real(file!)
            return f.pointee.pMethods.pointee.xUnlock(f, level)
        }
        m.pointee.xCheckReservedLock = { file, result in
            let f = CoalescingWALVFS.real(file!)
            return f.pointee.pMethods.pointee.xCheckReservedLock(f, result)
        }
        m.pointee.xFileControl = { file, op, argument in
            CoalescingWALVFS.afterFlush(file) { $0.pointee.pMethods.pointee.xFileControl($0, op, argument) }
        }
        m.pointee.xSectorSize = { file in
            let f = CoalescingWALVFS.real(file!)
            return f.pointee.pMethods.pointee.xSectorSize(f)
        }
        m.pointee.xDeviceCharacteristics = { file in
            let f = CoalescingWALVFS.real(file!)
            return f.pointee.pMethods.pointee.xDeviceCharacteristics(f)
        }
        return m
    }()

    private static func base(_ vfs: UnsafeMutablePointer<sqlite3_vfs>?) -> UnsafeMutablePointer<sqlite3_vfs> {
        vfs!.pointee.pAppData.assumingMemoryBound(to: sqlite3_vfs.self)
    }

    private static func header(_ file: UnsafeMutablePointer<sqlite3_file>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(file) + MemoryLayout<sqlite3_file>.stride
    }

    /// The default VFS's handle inside ours.
    private static func real(_ file: UnsafeMutablePointer<sqlite3_file>) -> UnsafeMutablePointer<sqlite3_file> {
        (UnsafeMutableRawPointer(file) + headerSize).assumingMemoryBound(to: sqlite3_file.self)
    }

    private static func buffer(_ file: UnsafeMutablePointer<sqlite3_file>) -> WALWriteBuffer {
        Unmanaged<WALWriteBuffer>.fromOpaque(CoalescingWALVFS.header(file).load(as: UnsafeMutableRawPointer.self)).takeUnretainedValue()
    }

    /// Writes the buffer out, then runs `body` on the default VFS's handle; a failed write
    /// is the result instead.
    private static func afterFlush(_ file: UnsafeMutablePointer<sqlite3_file>?,
                                   _ body: (UnsafeMutablePointer<sqlite3_file>) -> Int32) -> Int32 {
        let f = CoalescingWALVFS.real(file!)
        let rc = CoalescingWALVFS.buffer(file!).flush(to: f)
        return rc == SQLITE_OK ? body(f) : rc
    }
}
