import KineLayer

/// The hash etcd's Hash and HashKV report: a CRC-32C (Castagnoli) over every retained
/// change's revision, key and value, oldest first. Equal logs give equal hashes.
enum LogHash {
    static func compute(_ store: KineStore, upTo revision: Int64) async throws -> (UInt32, LogExport) {
        var crc = CRC32C()
        let export = try await store.export { entries in
            for e in entries where revision == 0 || e.revision <= revision {
                crc.update(bigEndian: e.revision)
                crc.update(bigEndian: e.sub)
                crc.update(e.kv.key)
                if !e.isTombstone { crc.update(e.kv.value) }
            }
        }
        return (crc.value, export)
    }
}

/// CRC-32C (Castagnoli polynomial), table-driven.
struct CRC32C {
    private static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }
    private var crc: UInt32 = 0xFFFF_FFFF

    mutating func update(_ bytes: [UInt8]) {
        for b in bytes { crc = Self.table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    }

    mutating func update(bigEndian value: Int64) {
        update(withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    var value: UInt32 { crc ^ 0xFFFF_FFFF }
}
