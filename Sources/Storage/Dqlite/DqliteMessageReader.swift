import NIOCore

/// Reads the fields of a dqlite response body.
struct DqliteMessageReader {
    private var body: ByteBuffer

    init(_ body: ByteBuffer) { self.body = body }

    var remaining: Int { body.readableBytes }

    mutating func uint64() throws -> UInt64 {
        guard let v = body.readInteger(endianness: .little, as: UInt64.self) else { throw Self.short("u64") }
        return v
    }

    mutating func int64() throws -> Int64 { Int64(bitPattern: try uint64()) }

    mutating func uint32() throws -> UInt32 {
        guard let v = body.readInteger(endianness: .little, as: UInt32.self) else { throw Self.short("u32") }
        return v
    }

    mutating func peekUInt64() -> UInt64? { body.getInteger(at: body.readerIndex, endianness: .little, as: UInt64.self) }

    /// NUL-terminated text padded to 8 bytes.
    mutating func text() throws -> String {
        let view = body.readableBytesView
        guard let end = view.firstIndex(of: 0) else { throw Self.short("text") }
        let length = end - view.startIndex
        let string = body.readString(length: length) ?? ""
        body.moveReaderIndex(forwardBy: 1)
        try skipPadding(length + 1)
        return string
    }

    mutating func blob() throws -> [UInt8] {
        let length = Int(try uint64())
        guard let bytes = body.readBytes(length: length) else { throw Self.short("blob") }
        try skipPadding(length)
        return bytes
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard let bytes = body.readBytes(length: count) else { throw Self.short("bytes") }
        return bytes
    }

    mutating func skipPadding(_ written: Int) throws {
        let rest = written % 8
        guard rest != 0 else { return }
        guard body.readableBytes >= 8 - rest else { throw Self.short("padding") }
        body.moveReaderIndex(forwardBy: 8 - rest)
    }

    /// A value of the given column type.
    mutating func value(_ type: UInt8) throws -> SQLValue {
        switch DqliteWire.ValueType(rawValue: type) {
        case .integer?, .unixTime?: return .integer(try int64())
        case .boolean?: return .integer(try uint64() == 0 ? 0 : 1)
        case .float?: return .real(Double(bitPattern: try uint64()))
        case .text?, .iso8601?: return .text(try text())
        case .blob?: return .blob(try blob())
        case .null?: _ = try uint64(); return .null
        case nil: throw DqliteError.protocolViolation("unknown value type \(type)")
        }
    }

    /// One ROWS frame: its rows, and whether more frames of the same result follow.
    mutating func rows() throws -> (rows: [SQLRow], more: Bool) {
        let columns = Int(try uint64())
        for _ in 0..<columns { _ = try text() }
        var rows: [SQLRow] = []
        let headerBytes = (columns + 1) / 2
        let headerPadded = (headerBytes + 7) / 8 * 8
        while true {
            guard let marker = peekUInt64() else { throw Self.short("rows") }
            if marker == DqliteWire.rowsDone || marker == DqliteWire.rowsPart {
                _ = try uint64()
                return (rows, marker == DqliteWire.rowsPart)
            }
            let header = try bytes(headerPadded)
            var values: [SQLValue] = []
            values.reserveCapacity(columns)
            for c in 0..<columns {
                let byte = header[c / 2]
                values.append(try value(c % 2 == 0 ? byte & 0x0F : byte >> 4))
            }
            rows.append(SQLRow(values))
        }
    }

    private static func short(_ what: String) -> DqliteError {
        .protocolViolation("response ends inside a \(what)")
    }
}
