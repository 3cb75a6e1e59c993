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
        // Members 0 and 1 share a cluster token; member 2 holds another one.
        let ports = try (0..<3).map { _ in try freeLoopbackPort() }
        let addresses = ports.map { "127.0.0.1:\($0)" }
        let token = ClusterToken.generate(caDER: [1, 2, 3]), stranger = ClusterToken.generate(caDER: [4, 5, 6])
        var started: [PeerHints] = []
        for (i, address) in addresses.enumerated() {
            let paths = ClusterPaths(dataDirectory: root + "/\(i)")
            try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: true)
            try ClusterMembers.save(i < 2 ? Array(addresses.prefix(2)) : [address, addresses[1]], paths)
            try (i < 2 ? token : stranger).save(paths)
            started.append(try await PeerHints.start(paths: paths, identity: ClusterIdentity(id: UInt64(i + 1), address: address),
                                                     logger: Logger(label: "test")))
        }
        let members = started
        let heard = [Heard(), Heard(), Heard()]
        let listeners = (0..<3).map { i in Task { for await announcement in members[i].heard { heard[i].add(announcement) } } }

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

        // A member's announcement reaches the other member, not itself, with its payload
        // (then the bare hint); a payload of 60 KB arrives whole.
        let large = (0..<60_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        members[0].announce(1000, payload: large)
        try await waitUntil { heard[1].values.suffix(2) == [1000, 1000] }
        #expect(heard[1].announcements.suffix(2) == [.init(revision: 1000, payload: large), .init(revision: 1000)])
        // One too large for a datagram goes as the hint alone.
        members[0].announce(1001, payload: [UInt8](repeating: 1, count: 70_000))
        try await waitUntil { heard[1].values.last == 1001 }
        #expect(heard[1].announcements.last == .init(revision: 1001))
        members[1].announce(2000)
        try await waitUntil { heard[0].values == [2000] }
        #expect(heard[0].announcements.allSatisfy { $0.payload == nil })

        // A payload signed with another cluster's token is dropped; its bare hint is heard.
        members[2].announce(2500, payload: Array("forged".utf8))
        try await waitUntil { heard[1].values.last == 2500 }
        #expect(heard[1].announcements.filter { $0.revision == 2500 } == [.init(revision: 2500)])
        // So is a payload whose HMAC was tampered with, or cut short.
        var tampered = Array("SKIFFEVT".utf8)
        withUnsafeBytes(of: Int64(2600).bigEndian) { tampered += $0 }
        tampered += [UInt8](repeating: 7, count: 32) + Array("payload".utf8)
        try sendDatagrams([tampered, Array(tampered.prefix(20)), valid], to: ports[1])
        try await waitUntil { heard[1].values.last == 42 }
        #expect(!heard[1].values.contains(2600))

        // A flood is merged rather than queued: the newest announcement is heard.
        for revision in Int64(3000)..<13_000 { members[0].announce(revision) }
        try await waitUntil {
            // Datagrams may be dropped under a flood: send the last one again until heard.
            members[0].announce(20_000)
            return heard[1].values.last == 20_000
        }
        #expect(heard[1].values.allSatisfy { $0 == 42 || $0 >= 1000 })
        // Member 2 is not in member 0's list: it heard nothing.
        #expect(heard[2].values.isEmpty)

        for member in members { await member.close() }
        for listener in listeners { await listener.value }
    }

    private final class Heard: Sendable {
        private let list = Mutex<[PeerHints.Announcement]>([])
        func add(_ announcement: PeerHints.Announcement) { list.withLock { $0.append(announcement) } }
        var announcements: [PeerHints.Announcement] { list.withLock { $0 } }
        var values: [Int64] { announcements.map(\.revision) }
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
