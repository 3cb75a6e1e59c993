import NIOCore

/// Builds the body of a dqlite request: 8-byte aligned fields, little-endian.
struct DqliteMessageWriter {
    private(set) var body: ByteBuffer

    init() { body = ByteBufferAllocator().buffer(capacity: 256) }

    mutating func uint64(_ value: UInt64) { body.writeInteger(value, endianness: .little) }
    mutating func int64(_ value: Int64) { body.writeInteger(value, endianness: .little) }
    mutating func uint32(_ value: UInt32) { body.writeInteger(value, endianness: .little) }

    /// UTF-8 text, NUL-terminated, zero-padded to 8 bytes.
    mutating func text(_ value: String) {
        let written = body.writeString(value)
        body.writeInteger(UInt8(0))
        pad(written + 1)
    }

    /// A u64 length and the bytes, zero-padded to 8.
    mutating func blob(_ value: [UInt8]) {
        uint64(UInt64(value.count))
        body.writeBytes(value)
        pad(value.count)
    }

    /// Statement parameters in the schema-0 layout: u8 count, one type code per value,
    /// padding to 8, then the values. At most 255 values: dqlite 1.11 mis-binds more.
    mutating func parameters(_ values: [SQLValue]) throws {
        guard values.count <= 255 else { throw StorageError.tooManyParameters(count: values.count, limit: 255) }
        body.writeInteger(UInt8(values.count))
        for v in values { body.writeInteger(Self.typeCode(v).rawValue) }
        pad(1 + values.count)
        for v in values {
            switch v {
            case .null: uint64(0)
            case .integer(let i): int64(i)
            case .real(let d): body.writeInteger(d.bitPattern, endianness: .little)
            case .text(let s): text(s)
            case .blob(let b): blob(b)
            }
        }
    }

    private static func typeCode(_ value: SQLValue) -> DqliteWire.ValueType {
        switch value {
        case .null: return .null
        case .integer: return .integer
        case .real: return .float
        case .text: return .text
        case .blob: return .blob
        }
    }

    private mutating func pad(_ written: Int) {
        let rest = written % 8
        if rest != 0 { body.writeRepeatingByte(0, count: 8 - rest) }
    }

    /// The whole message: header then body.
    func frame(_ type: DqliteWire.Request) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 8 + body.readableBytes)
        out.writeInteger(UInt32(body.readableBytes / 8), endianness: .little)
        out.writeInteger(type.rawValue)
        out.writeInteger(UInt8(0))
        out.writeInteger(UInt16(0), endianness: .little)
        var copy = body
        out.writeBuffer(&copy)
        return out
    }
}
