#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (flock) on a file, held for the life of this object, so
/// that two processes never open one database. The kernel drops it when the process dies,
/// also on `kill -9`.
public final class DirectoryLock: Sendable {
    /// The lock file's path.
    public let path: String
    private let fd: Int32

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
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
