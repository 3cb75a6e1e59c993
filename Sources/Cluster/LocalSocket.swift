#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain sockets the node process uses between its TLS proxy and the dqlite node.
enum LocalSocket {
    /// Thrown by ``connectAbstract(_:)`` when the listener's accept backlog is full.
    struct Busy: Error, CustomStringConvertible {
        var description: String { "the local dqlite node's accept backlog is full" }
    }

    /// Connects to the abstract-namespace socket `name` (dqlite's `@name` bind address)
    /// without ever blocking: it is called on event loops. The socket is non-blocking; a
    /// listener whose backlog is full makes it throw ``Busy`` at once (a blocking connect
    /// would wait until the listener accepts).
    static func connectAbstract(_ name: String) throws -> Int32 {
        var (address, length) = try abstractAddress(name)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ClusterError.io("socket: \(String(cString: strerror(errno)))") }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            if code == EAGAIN { throw Busy() }
            let message = String(cString: strerror(code))
            throw ClusterError.io("cannot reach the local dqlite node at @\(name): \(message)")
        }
        return fd
    }

    /// The address of the abstract-namespace socket `name`, and its length.
    static func abstractAddress(_ name: String) throws -> (sockaddr_un, socklen_t) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        guard bytes.count + 1 <= MemoryLayout.size(ofValue: address.sun_path) else { throw ClusterError.io("socket name too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0
            for (i, b) in bytes.enumerated() { path[i + 1] = b }
        }
        return (address, socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count))
    }

    /// A connected pair of stream sockets.
    static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw ClusterError.io("socketpair: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }
}
