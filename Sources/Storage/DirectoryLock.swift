#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An exclusive advisory lock (flock) on a file, held until ``release()`` or the end of
/// this object, so that two processes never open one database. The kernel drops it when
/// the process dies, also on `kill -9`.
public final class DirectoryLock: Sendable {
    /// The lock file's path.
    public let path: String
    private let fd: Mutex<Int32>

    /// Creates (if needed) and locks `path`; fails at once if another process holds it.
    public init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StorageError.openFailed(path: path, message: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StorageError.locked(path: path)
        }
        self.path = path
        self.fd = Mutex(fd)
    }

    /// Gives the lock up. Calling it again does nothing.
    public func release() {
        fd.withLock { fd in
            guard fd >= 0 else { return }
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
