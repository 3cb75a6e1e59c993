import Cluster
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Commit hints between members, over real UDP on loopback.
struct PeerHintsTests {
    @Test(.timeLimit(.minutes(1)))
    func membersHearEachOthersCommitsAndNothingElse() async throws {
        let root = NSTemporaryDirectory() + "peer-hints-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ports = try (0..<2).map { _ in try freeLoopbackPort() }
        let addresses = ports.map { "127.0.0.1:\($0)" }
        var started: [PeerHints] = []
        for (i, address) in addresses.enumerated() {
            let paths = ClusterPaths(dataDirectory: root + "/\(i)")
            try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: true)
            try ClusterMembers.save(addresses, paths)
            started.append(try await PeerHints.start(paths: paths, identity: ClusterIdentity(id: UInt64(i + 1), address: address),
                                                     logger: Logger(label: "test")))
        }
        let members = started
        let heard = [Heard(), Heard()]
        let listeners = (0..<2).map { i in Task { for await revision in members[i].heard { heard[i].add(revision) } } }

        // Datagrams that are not hints (wrong size, wrong magic, a revision that is not
        // positive) are dropped; the hint sent after them on the same socket is heard.
        var valid = Array("SKIFFREV".utf8)
        withUnsafeBytes(of: Int64(42).bigEndian) { valid += $0 }
        var negative = Array("SKIFFREV".utf8)
        withUnsafeBytes(of: Int64(-5).bigEndian) { negative += $0 }
        var wrongMagic = Array("SKIFFREW".utf8)
        withUnsafeBytes(of: Int64(7).bigEndian) { wrongMagic += $0 }
        try sendDatagrams([[1, 2, 3], valid + [0], negative, wrongMagic, [UInt8](repeating: 0xff, count: 16), valid], to: ports[1])
        try await waitUntil { heard[1].values == [42] }

        // A member's announcement reaches the other member, not itself.
        members[0].announce(1000)
        try await waitUntil { heard[1].values.last == 1000 }
        members[1].announce(2000)
        try await waitUntil { heard[0].values == [2000] }

        // A flood is merged rather than queued: the newest announcement is heard.
        for revision in Int64(3000)..<13_000 { members[0].announce(revision) }
        try await waitUntil {
            // Datagrams may be dropped under a flood: send the last one again until heard.
            members[0].announce(20_000)
            return heard[1].values.last == 20_000
        }
        #expect(heard[1].values.allSatisfy { $0 == 42 || $0 >= 1000 })

        for member in members { await member.close() }
        for listener in listeners { await listener.value }
    }

    private final class Heard: Sendable {
        private let list = Mutex<[Int64]>([])
        func add(_ revision: Int64) { list.withLock { $0.append(revision) } }
        var values: [Int64] { list.withLock { $0 } }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "condition not met within 20 s")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends each datagram, in order, from one UDP socket to 127.0.0.1:`port`.
    private func sendDatagrams(_ datagrams: [[UInt8]], to port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        for datagram in datagrams {
            let sent = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            try #require(sent == datagram.count)
        }
    }
}
