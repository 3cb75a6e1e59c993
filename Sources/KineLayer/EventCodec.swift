/// A compact binary form of a batch of committed changes, for handing them to the other
/// members of a cluster (``PeerChangeSignal``): a count, then per change its kind, its
/// key-value, and its previous key-value if any. Integers are big-endian; byte strings carry
/// a 4-byte length.
///
/// Decoding never trusts the bytes: every length is checked against what is left, the
/// number of changes is bounded by the bytes present, and anything malformed or trailing is
/// refused (`nil`). Revisions must be positive and in order, so a decoded batch can be
/// offered to the watch hub as it is.
public enum EventCodec {
    /// The size of `events`' encoded form, found without encoding them.
    public static func encodedSize(_ events: [Event]) -> Int {
        events.reduce(4) { size, event in
            size + 2 + keyValueSize(event.kv) + (event.prevKV.map(keyValueSize) ?? 0)
        }
    }

    /// The encoded form of `events`.
    public static func encode(_ events: [Event]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedSize(events))
        append(UInt32(clamping: events.count), to: &out)
        for event in events {
            out.append(event.kind == .put ? 0 : 1)
            append(event.kv, to: &out)
            if let prev = event.prevKV {
                out.append(1)
                append(prev, to: &out)
            } else {
                out.append(0)
            }
        }
        return out
    }

    /// The changes encoded in `bytes`, or `nil` if they are not a well-formed batch.
    public static func decode(_ bytes: [UInt8]) -> [Event]? {
        var reader = Reader(bytes: bytes)
        guard let count = reader.uint32(), Int(count) <= bytes.count / minimumEventSize else { return nil }
        var events: [Event] = []
        events.reserveCapacity(Int(count))
        var last: Int64 = 0
        for _ in 0..<count {
            guard let kind = reader.byte(), kind <= 1, let kv = reader.keyValue(), let hasPrev = reader.byte(), hasPrev <= 1 else { return nil }
            var prev: KeyValue?
            if hasPrev == 1 {
                guard let p = reader.keyValue() else { return nil }
                prev = p
            }
            guard kv.modRevision > 0, kv.modRevision >= last else { return nil }
            last = kv.modRevision
            events.append(Event(kind: kind == 0 ? .put : .delete, kv: kv, prevKV: prev))
        }
        return reader.atEnd ? events : nil
    }

    /// A key-value's encoded size: two lengths, the bytes, four integers.
    private static func keyValueSize(_ kv: KeyValue) -> Int { 4 + kv.key.count + 4 + kv.value.count + 8 * 4 }

    /// Kind, key-value without bytes, previous-value flag.
    private static let minimumEventSize = 1 + (4 + 4 + 8 * 4) + 1

    private static func append(_ kv: KeyValue, to out: inout [UInt8]) {
        append(UInt32(clamping: kv.key.count), to: &out)
        out += kv.key
        append(UInt32(clamping: kv.value.count), to: &out)
        out += kv.value
        for n in [kv.createRevision, kv.modRevision, kv.version, kv.lease] { append(UInt64(bitPattern: n), to: &out) }
    }

    private static func append<T: FixedWidthInteger>(_ n: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: n.bigEndian) { out += $0 }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint32() -> UInt32? { integer(UInt32.self) }

        mutating func int64() -> Int64? { integer(UInt64.self).map { Int64(bitPattern: $0) } }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard bytes.count - offset >= size else { return nil }
            var n: T = 0
            for b in bytes[offset..<offset + size] { n = n << 8 | T(b) }
            offset += size
            return n
        }

        mutating func data() -> [UInt8]? {
            guard let length = uint32(), bytes.count - offset >= Int(length) else { return nil }
            defer { offset += Int(length) }
            return Array(bytes[offset..<offset + Int(length)])
        }

        mutating func keyValue() -> KeyValue? {
            guard let key = data(), let value = data(), let create = int64(), let mod = int64(),
                  let version = int64(), let lease = int64() else { return nil }
            return KeyValue(key: key, value: value, createRevision: create, modRevision: mod, version: version, lease: lease)
        }
    }
}
