import NIOSSL
import Storage

/// Checks whether a member answers on its cluster port: TLS, then a LEADER request.
struct MemberProbe: Sendable {
    let tls: NIOSSLContext
    var timeout: Duration = .seconds(1)

    /// `nil` when the member answered, else why not.
    func check(_ address: String) async -> String? {
        do {
            let client = try await DqliteClient.connect(to: address, tls: tls, timeout: timeout)
            defer { client.close() }
            _ = try await client.leader()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The IDs of the members that answer (checked concurrently).
    func online(_ members: [DqliteNodeInfo]) async -> Set<UInt64> {
        await withTaskGroup(of: UInt64?.self) { group in
            for member in members {
                group.addTask { await check(member.address) == nil ? member.id : nil }
            }
            var result = Set<UInt64>()
            for await id in group { if let id { result.insert(id) } }
            return result
        }
    }
}
