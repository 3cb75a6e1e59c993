/// The OpenAPI v2 document in the protobuf form kubectl asks for
/// (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, the `openapi.v2.Document`
/// message of gnostic's OpenAPIv2.proto). kubectl falls back to it for client-side
/// validation of kinds without a path of their own (a `List`, TokenReview).
///
/// Only what validation reads is written: the swagger version, info, and the definitions
/// with their types, formats, required fields, enums, items, properties, additional
/// properties, references and `x-` extensions (as YAML, here JSON text).
enum OpenAPIV2Protobuf {
    /// What clients ask for (Accept) ...
    static let mediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    /// ... and the Content-Type answered (Go's MIME parser refuses the "@" form).
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static func document(title: String, version: String, definitions: [String: JSON]) -> [UInt8] {
        var info = ProtobufWriter()
        info.string(1, title)
        info.string(2, version)
        var document = ProtobufWriter()
        document.string(1, "2.0")
        document.message(2, info.bytes)
        document.message(9, namedSchemas(definitions))
        return document.bytes
    }

    /// A message of `NamedSchema` entries (field 1), as `Definitions` and `Properties` are.
    private static func namedSchemas(_ schemas: [String: JSON]) -> [UInt8] {
        var list = ProtobufWriter()
        for name in schemas.keys.sorted() {
            var entry = ProtobufWriter()
            entry.string(1, name)
            entry.message(2, schema(schemas[name]!))
            list.message(1, entry.bytes)
        }
        return list.bytes
    }

    /// A `openapi.v2.Schema` message.
    static func schema(_ node: JSON) -> [UInt8] {
        var w = ProtobufWriter()
        guard let members = node.objectValue else { return w.bytes }
        if let ref = members["$ref"]?.stringValue { w.string(1, ref) }
        if let format = members["format"]?.stringValue { w.string(2, format) }
        if let value = members["default"] { w.message(5, any(value)) }
        if let maximum = members["maximum"]?.doubleValue { w.double(7, maximum) }
        if members["exclusiveMaximum"]?.boolValue == true { w.varint(8, 1) }
        if let minimum = members["minimum"]?.doubleValue { w.double(9, minimum) }
        if members["exclusiveMinimum"]?.boolValue == true { w.varint(10, 1) }
        for (field, key) in [(11, "maxLength"), (12, "minLength"), (14, "maxItems"), (15, "minItems"),
                             (17, "maxProperties"), (18, "minProperties")] {
            if let n = members[key]?.intValue { w.varint(field, UInt64(bitPattern: n)) }
        }
        if let pattern = members["pattern"]?.stringValue { w.string(13, pattern) }
        if members["uniqueItems"]?.boolValue == true { w.varint(16, 1) }
        for name in members["required"]?.arrayValue ?? [] { if let s = name.stringValue { w.string(19, s) } }
        for value in members["enum"]?.arrayValue ?? [] { w.message(20, any(value)) }
        if let additional = members["additionalProperties"] {
            var item = ProtobufWriter()
            if let flag = additional.boolValue { item.varint(2, flag ? 1 : 0) } else { item.message(1, schema(additional)) }
            w.message(21, item.bytes)
        }
        if let type = members["type"] {
            var item = ProtobufWriter()
            for t in type.arrayValue ?? [type] { if let s = t.stringValue { item.string(1, s) } }
            w.message(22, item.bytes)
        }
        if let items = members["items"] {
            var item = ProtobufWriter()
            for s in items.arrayValue ?? [items] { item.message(1, schema(s)) }
            w.message(23, item.bytes)
        }
        for s in members["allOf"]?.arrayValue ?? [] { w.message(24, schema(s)) }
        if let properties = members["properties"]?.objectValue { w.message(25, namedSchemas(properties)) }
        for key in members.keys.sorted() where key.hasPrefix("x-") {
            var entry = ProtobufWriter()
            entry.string(1, key)
            entry.message(2, any(members[key]!))
            w.message(31, entry.bytes)
        }
        return w.bytes
    }

    /// An `openapi.v2.Any`: the value as YAML text (JSON is YAML).
    private static func any(_ value: JSON) -> [UInt8] {
        var w = ProtobufWriter()
        w.string(2, String(decoding: value.serialized(), as: UTF8.self))
        return w.bytes
    }
}
