import Crypto
import Foundation

/// The secret that lets a node join: `skiff1.<SHA-256 of the cluster CA certificate>.<secret>`.
///
/// The CA hash lets the joining node check that it talks to the real cluster before it
/// sends the secret; the secret proves to the cluster that the node was invited.
public struct ClusterToken: Sendable, Equatable, CustomStringConvertible {
    public var caHash: String
    public var secret: String

    public var description: String { "skiff1.\(caHash).\(secret)" }

    /// A new token for the CA whose DER encoding is `caDER`.
    public static func generate(caDER: [UInt8]) -> ClusterToken {
        var bytes = [UInt8](repeating: 0, count: 24)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return ClusterToken(caHash: hash(caDER), secret: hex(bytes))
    }

    public init(caHash: String, secret: String) {
        self.caHash = caHash
        self.secret = secret
    }

    /// Parses a token as printed by `skiff cluster token`.
    public init(parsing text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
        guard parts.count == 3, parts[0] == "skiff1", parts[1].count == 64, parts[2].count >= 32,
              parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isHexDigit) else {
            throw ClusterError.invalidToken("expected skiff1.<64 hex digits>.<secret>, as `skiff cluster token` prints")
        }
        caHash = String(parts[1])
        secret = String(parts[2])
    }

    /// Whether `other` carries the same secret, compared in constant time.
    public func matches(_ other: ClusterToken) -> Bool {
        let a = Array(description.utf8), b = Array(other.description.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    public static func load(_ paths: ClusterPaths) throws -> ClusterToken {
        guard let text = try? String(contentsOfFile: paths.token, encoding: .utf8) else {
            throw ClusterError.notMember("no cluster token in \(paths.directory): this data directory has not started a dqlite node")
        }
        return try ClusterToken(parsing: text)
    }

    public func save(_ paths: ClusterPaths) throws {
        try ClusterFile.write(Data((description + "\n").utf8), to: paths.token, mode: 0o600)
    }

    /// The hex SHA-256 of DER bytes.
    public static func hash(_ der: [UInt8]) -> String { hex(Array(SHA256.hash(data: der))) }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
