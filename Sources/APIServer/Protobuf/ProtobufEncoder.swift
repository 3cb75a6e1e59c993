import Foundation

/// Writes a JSON object as the protobuf message of its type, field by field in number order,
/// as Go's generated marshallers do. Members that are absent or null are not written (a
/// reader's zero value is the same); members the message has no field for are dropped, as a
/// Go server drops what its types do not hold; a member of the wrong JSON type is left out.
struct ProtobufEncoder {
    let schema: ProtobufSchema

    func encode(_ value: JSON, type: String) -> [UInt8] {
        var writer = ProtobufWriter()
        if let message = schema.messages[type] { write(value, message: message, into: &writer) }
        return writer.bytes
    }

    func write(_ value: JSON, message: ProtobufSchema.Message, into writer: inout ProtobufWriter) {
        if let form = message.form {
            write(value, form: form, message: message, into: &writer)
            return
        }
        guard case .object(let members) = value else { return }
        for field in message.ordered {
            if field.inline {
                guard let inner = schema.messages[field.messageType] else { continue }
                writer.nested(field.number) { write(value, message: inner, into: &$0) }
                continue
            }
            guard let member = members[field.name], member != .null else { continue }
            switch field.shape {
            case .single:
                write(member, field: field, into: &writer)
            case .repeated:
                for item in member.arrayValue ?? [] where item != .null { write(item, field: field, into: &writer) }
            case .map:
                guard let map = member.objectValue else { continue }
                for key in map.keys.sorted() {
                    writer.nested(field.number) { entry in
                        entry.string(1, key)
                        if let item = map[key] {
                            var valueField = field
                            valueField.number = 2
                            write(item, field: valueField, into: &entry)
                        }
                    }
                }
            }
        }
    }

    /// One value of a field.
    func write(_ value: JSON, field: ProtobufSchema.Field, into writer: inout ProtobufWriter) {
        let n = field.number
        switch field.kind {
        case UInt8(ascii: "s"):
            if let s = value.stringValue { writer.string(n, s) }
        case UInt8(ascii: "b"):
            if let s = value.stringValue, let data = Data(base64Encoded: s) { writer.message(n, Array(data)) }
        case UInt8(ascii: "t"):
            if let b = value.boolValue { writer.varint(n, b ? 1 : 0) }
        case UInt8(ascii: "i"):
            if let i = value.intValue { writer.varint(n, UInt64(bitPattern: i)) }
        case UInt8(ascii: "z"):
            if let i = value.intValue { writer.varint(n, UInt64(bitPattern: (i << 1) ^ (i >> 63))) }
        case UInt8(ascii: "d"):
            if let d = value.doubleValue { writer.double(n, d) }
        case UInt8(ascii: "e"):
            if let d = value.doubleValue { writer.fixed32(n, Float(d).bitPattern) }
        case UInt8(ascii: "x"):
            if let i = value.intValue { writer.fixed64(n, UInt64(bitPattern: i)) }
        case UInt8(ascii: "y"):
            if let i = value.intValue { writer.fixed32(n, UInt32(truncatingIfNeeded: i)) }
        case UInt8(ascii: "m"):
            guard let message = schema.messages[field.messageType] else { return }
            writer.nested(n) { write(value, message: message, into: &$0) }
        default:
            return
        }
    }

    /// Messages with a JSON form of their own.
    func write(_ value: JSON, form: ProtobufSchema.Form, message: ProtobufSchema.Message, into writer: inout ProtobufWriter) {
        func schemaProps(_ number: Int, _ value: JSON) {
            guard let field = message.fields[number], let inner = schema.messages[field.messageType] else { return }
            writer.nested(number) { write(value, message: inner, into: &$0) }
        }
        switch form {
        case .time, .microtime:
            guard let text = value.stringValue, let parts = RFC3339.parts(text) else { return }
            writer.varint(1, UInt64(bitPattern: parts.seconds))
            if form == .microtime { writer.varint(2, UInt64(bitPattern: parts.nanoseconds / 1000 * 1000)) }
            else { writer.varint(2, 0) }
        case .duration:
            guard let text = value.stringValue, let seconds = GoDuration.seconds(text), seconds.magnitude < 9e9 else { return }
            writer.varint(1, UInt64(bitPattern: Int64((seconds * 1e9).rounded())))
        case .intorstring:
            if let s = value.stringValue {
                writer.varint(1, 1)
                writer.varint(2, 0)
                writer.string(3, s)
            } else if let i = value.intValue {
                writer.varint(1, 0)
                writer.varint(2, UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: i))))
                writer.string(3, "")
            }
        case .quantity:
            if let s = value.stringValue { writer.string(1, s) }
            else if let i = value.intValue { writer.string(1, String(i)) }
            else if let d = value.doubleValue { writer.string(1, String(d)) }
        case .raw:
            writer.message(1, value.serialized())
        case .array:
            for item in value.arrayValue ?? [] { if let s = item.stringValue { writer.string(1, s) } }
        case .schemaOrArray:
            if let items = value.arrayValue { for item in items { schemaProps(2, item) } } else { schemaProps(1, value) }
        case .schemaOrBool:
            if let allows = value.boolValue { writer.varint(1, allows ? 1 : 0) } else {
                writer.varint(1, 1)
                schemaProps(2, value)
            }
        case .schemaOrStringArray:
            if let items = value.arrayValue {
                for item in items { if let s = item.stringValue { writer.string(2, s) } }
            } else {
                schemaProps(1, value)
            }
        }
    }
}
