import Crypto
import EtcdAPI
import KineLayer

/// A snapshot of the log in etcd's own file layout: a bbolt database whose `key` bucket maps
/// revisions (8-byte big-endian main revision, `_`, 8-byte sub-revision, and a `t` for a
/// deletion) to key-value records, with the `lease` and `meta` buckets etcd keeps, followed
/// by the file's SHA-256 as etcd's snapshot stream carries it.
struct SnapshotImage {
    var bytes: [UInt8]
    /// The revision the snapshot was taken at.
    var revision: Int64

    /// The buckets etcd's tools expect to find, empty where Skiff keeps nothing of the kind.
    private static let emptyBuckets = ["alarm", "auth", "authRoles", "authUsers", "cluster", "members", "members_removed"]

    static func make(_ store: KineStore) async throws -> SnapshotImage {
        var keyItems: [BoltWriter.Item] = []
        let export = try await store.export { entries in
            for e in entries {
                var record = Mvccpb_KeyValue()
                record.key = .init(e.kv.key)
                if !e.isTombstone {
                    record = Mvccpb_KeyValue(e.kv)
                }
                let key = revisionKey(e.revision, e.sub) + (e.isTombstone ? [UInt8(ascii: "t")] : [])
                keyItems.append(BoltWriter.Item(key: key, value: try record.serializedBytes()))
            }
        }
        var writer = BoltWriter()
        var buckets: [(name: [UInt8], root: UInt64)] = []
        buckets.append((Array("key".utf8), writer.writeTree(keyItems)))

        let leaseItems = export.leases.sorted { $0.id < $1.id }.map { lease in
            BoltWriter.Item(key: bigEndian(lease.id), value: leaseRecord(lease))
        }
        buckets.append((Array("lease".utf8), writer.writeTree(leaseItems)))

        var metaItems = [
            BoltWriter.Item(key: Array("consistent_index".utf8), value: bigEndian(export.currentRevision)),
            BoltWriter.Item(key: Array("term".utf8), value: bigEndian(Int64(1))),
        ]
        if export.compactRevision > 0 {
            metaItems.append(BoltWriter.Item(key: Array("finishedCompactRev".utf8), value: revisionKey(export.compactRevision, 0)))
            metaItems.append(BoltWriter.Item(key: Array("scheduledCompactRev".utf8), value: revisionKey(export.compactRevision, 0)))
        }
        metaItems.sort { $0.key.lexicographicallyPrecedes($1.key) }
        buckets.append((Array("meta".utf8), writer.writeTree(metaItems)))

        for name in emptyBuckets { buckets.append((Array(name.utf8), writer.writeTree([]))) }
        var file = writer.finish(buckets: buckets)
        file += Array(SHA256.hash(data: file))
        return SnapshotImage(bytes: file, revision: export.currentRevision)
    }

    /// etcd's key for a change: main revision, `_`, sub-revision, both 8-byte big-endian.
    static func revisionKey(_ main: Int64, _ sub: Int64) -> [UInt8] {
        bigEndian(main) + [UInt8(ascii: "_")] + bigEndian(sub)
    }

    static func bigEndian(_ value: Int64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// etcd's lease record: protobuf fields 1 (ID) and 2 (TTL), both varints.
    static func leaseRecord(_ lease: Lease) -> [UInt8] {
        [0x08] + varint(UInt64(bitPattern: lease.id)) + [0x10] + varint(UInt64(bitPattern: lease.ttl))
    }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }
}
