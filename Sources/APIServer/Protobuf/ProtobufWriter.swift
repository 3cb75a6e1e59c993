/// Writes protobuf fields (wire format): tags, varints, fixed-width and length-delimited values.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init() {}

    init(reservingCapacity capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        raw(value)
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        fixed64(value.bitPattern)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, 1)
        fixed64(value)
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        key(field, 5)
        var bits = value
        for _ in 0..<4 { bytes.append(UInt8(bits & 0xFF)); bits >>= 8 }
    }

    mutating func string(_ field: Int, _ value: String) {
        key(field, 2)
        var value = value
        value.withUTF8 { utf8 in
            raw(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func message(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        raw(UInt64(value.count))
        bytes += value
    }

    /// A length-delimited field whose content `body` writes in place: one byte is kept for the
    /// length, and the content moves up only when its length needs more.
    mutating func nested(_ field: Int, _ body: (inout ProtobufWriter) throws -> Void) rethrows {
        key(field, 2)
        let lengthAt = bytes.count
        bytes.append(0)
        try body(&self)
        let length = bytes.count - lengthAt - 1
        if length < 0x80 {
            bytes[lengthAt] = UInt8(length)
            return
        }
        var prefix: [UInt8] = []
        var v = UInt64(length)
        while v >= 0x80 { prefix.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        prefix.append(UInt8(v))
        bytes.replaceSubrange(lengthAt..<lengthAt + 1, with: prefix)
    }

    private mutating func fixed64(_ value: UInt64) {
        var bits = value
        for _ in 0..<8 { bytes.append(UInt8(bits & 0xFF)); bits >>= 8 }
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

    mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func append(_ other: [UInt8]) { bytes += other }
}
