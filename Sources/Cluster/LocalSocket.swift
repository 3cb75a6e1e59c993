#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain sockets the node process uses between its TLS proxy and the dqlite node.
enum LocalSocket {
    /// Connects to the abstract-namespace socket `name` (dqlite's `@name` bind address).
    static func connectAbstract(_ name: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClusterError.io("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count + 1 <= capacity else { close(fd); throw ClusterError.io("socket name too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0
            for (i, b) in bytes.enumerated() { path[i + 1] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ClusterError.io("cannot reach the local dqlite node at @\(name): \(message)")
        }
        return fd
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
