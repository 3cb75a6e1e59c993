import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The names and addresses by which clients may reach this host, for the serving certificate.
public enum HostIdentity {
    /// `localhost`, the loopback addresses, the host name and every address of the host's
    /// interfaces, then `extra` (from `--tls-san`).
    public static func subjectAlternativeNames(extra: [String]) -> [String] {
        var names = ["localhost", "127.0.0.1", "::1"]
        let host = ProcessInfo.processInfo.hostName
        if !host.isEmpty { names.append(host) }
        names.append(contentsOf: interfaceAddresses())
        names.append(contentsOf: extra)
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// The IPv4 and IPv6 addresses of the host's interfaces.
    static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                var v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                addresses.append(IPAddressBytes.text(withUnsafeBytes(of: &v4) { Array($0) }))
            case AF_INET6:
                var v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                let bytes = withUnsafeBytes(of: &v6) { Array($0) }
                if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { continue }   // link-local needs a zone
                addresses.append(IPAddressBytes.text(bytes))
            default: continue
            }
        }
        return addresses
    }
}
