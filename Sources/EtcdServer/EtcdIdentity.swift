import EtcdAPI
import KineLayer

/// Who this endpoint says it is, in every response header: cluster and member IDs, the Raft
/// term (Skiff has no Raft of its own on one node: the term is 1), and the revision.
struct EtcdIdentity: Sendable {
    let clusterID: UInt64
    let memberID: UInt64
    let name: String
    let clientURL: String

    func header(_ revision: Int64) -> Etcdserverpb_ResponseHeader {
        var h = Etcdserverpb_ResponseHeader()
        h.clusterID = clusterID
        h.memberID = memberID
        h.revision = revision
        h.raftTerm = 1
        return h
    }

    /// Stable IDs derived from a name (FNV-1a), so that restarts keep them.
    static func id(from text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash == 0 ? 1 : hash
    }
}
