/// Reads protobuf wire format: tags, varints, fixed-width and length-delimited values. Every
/// read is bounds-checked; malformed input throws a 400 `Status`.
struct ProtobufReader {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { bytes.isEmpty }

    static func malformed() -> StatusError { .badRequest("the protobuf body is malformed") }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.popFirst() {
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { throw Self.malformed() }
        }
        throw Self.malformed()
    }

    /// The next field's number and wire type, or nil at the end.
    mutating func nextTag() throws -> (Int, Int)? {
        if bytes.isEmpty { return nil }
        let tag = try varint()
        let number = tag >> 3
        guard number > 0, number < 1 << 29 else { throw Self.malformed() }
        return (Int(number), Int(tag & 7))
    }

    mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(bytes.count) else { throw Self.malformed() }
        let value = bytes.prefix(Int(length))
        bytes = bytes.dropFirst(Int(length))
        return value
    }

    mutating func fixed64() throws -> UInt64 { try fixed(width: 8) }

    mutating func fixed32() throws -> UInt32 { UInt32(truncatingIfNeeded: try fixed(width: 4)) }

    /// A little-endian fixed-width value of `width` bytes.
    private mutating func fixed(width: Int) throws -> UInt64 {
        guard bytes.count >= width else { throw Self.malformed() }
        var value: UInt64 = 0
        for (i, byte) in bytes.prefix(width).enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        bytes = bytes.dropFirst(width)
        return value
    }

    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw Self.malformed()
        }
    }
}
