/// An object as stored, with the revision that last changed it.
public struct StoredObject: Sendable {
    /// The object, `metadata.resourceVersion` set to `modRevision`.
    public var object: JSON
    public var modRevision: Int64
    public var key: String
}

/// An object as listed: its stored bytes, decoded only when needed (a plain list splices
/// the resourceVersion into the bytes instead of parsing them).
public struct StoredEntry: Sendable {
    public var key: String
    public var modRevision: Int64
    public var value: [UInt8]

    /// The parsed object, resourceVersion set.
    public func decoded() throws -> JSON {
        try StoredCodec.decode(value, key: key, revision: modRevision)
    }

    /// The stored JSON with `"resourceVersion"` inserted into the top-level `metadata`
    /// object, found by a scan that follows strings and nesting; `nil` if there is none.
    public func bytesWithResourceVersion() -> [UInt8]? {
        let marker = Array("\"metadata\"".utf8)
        var depth = 0
        var inString = false
        var escaped = false
        var i = 0
        let bytes = value
        while i < bytes.count {
            let byte = bytes[i]
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                i += 1
                continue
            }
            switch byte {
            case 0x22:
                if depth == 1, bytes.count - i > marker.count, Array(bytes[i..<i + marker.count]) == marker {
                    var j = i + marker.count
                    while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
                    guard j < bytes.count, bytes[j] == UInt8(ascii: ":") else { break }
                    j += 1
                    while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
                    guard j < bytes.count, bytes[j] == UInt8(ascii: "{") else { return nil }
                    var k = j + 1
                    while k < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[k]) { k += 1 }
                    let empty = k < bytes.count && bytes[k] == UInt8(ascii: "}")
                    var out: [UInt8] = []
                    out.reserveCapacity(bytes.count + 32)
                    out.append(contentsOf: bytes[...j])
                    out.append(contentsOf: "\"resourceVersion\":\"\(modRevision)\"".utf8)
                    if !empty { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: bytes[(j + 1)...])
                    return out
                }
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
            i += 1
        }
        return nil
    }
}
