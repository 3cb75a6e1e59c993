import Foundation

/// Turns protobuf messages into the JSON object Go's `encoding/json` would write for the same
/// Go value, so that a protobuf request is stored exactly as its JSON twin would be:
/// - a field Go holds by pointer is in the JSON when it is on the wire, whatever its value;
/// - other fields get Go's zero value when absent, and are left out when zero only if their
///   JSON tag says `omitempty` (structs never are: an empty one is `{}`);
/// - unknown field numbers are skipped, as Go's decoder skips them, so a client newer than
///   the server still works.
struct ProtobufDecoder {
    let schema: ProtobufSchema
    /// How deep messages may nest before the body is refused.
    static let maximumDepth = 100
    /// The most JSON members one body may decode to. Go's zero values make an absent struct
    /// a whole object, so two bytes of an empty list element can stand for dozens of
    /// members: without a bound a 3 MiB body could take gigabytes.
    static let maximumMembers = 1_000_000
    let budget = Budget(maximumMembers)

    /// The members left to decode (one body's, shared by every message in it).
    final class Budget {
        var remaining: Int
        init(_ remaining: Int) { self.remaining = remaining }

        func spend(_ count: Int) throws {
            remaining -= count
            guard remaining >= 0 else {
                throw StatusError(code: 413, reason: "RequestEntityTooLarge",
                                  message: "Request entity too large: the protobuf body decodes to more than \(ProtobufDecoder.maximumMembers) values")
            }
        }
    }

    /// A `k8s\0` + `runtime.Unknown` body (or embedded object): the message its apiVersion and
    /// kind name, with those two members set.
    func envelope(_ body: ArraySlice<UInt8>, depth: Int) throws -> JSON {
        guard body.count >= 4, body.prefix(4).elementsEqual(KubernetesProtobuf.magic) else {
            throw StatusError.badRequest("the protobuf body does not start with the Kubernetes magic number")
        }
        var envelope = ProtobufReader(body.dropFirst(4))
        var apiVersion = "", kind = "", raw: ArraySlice<UInt8> = []
        while let (number, wire) = try envelope.nextTag() {
            switch (number, wire) {
            case (1, 2):
                var typeMeta = ProtobufReader(try envelope.lengthDelimited())
                while let (n, w) = try typeMeta.nextTag() {
                    if n == 1, w == 2 { apiVersion = String(decoding: try typeMeta.lengthDelimited(), as: UTF8.self) }
                    else if n == 2, w == 2 { kind = String(decoding: try typeMeta.lengthDelimited(), as: UTF8.self) }
                    else { try typeMeta.skip(w) }
                }
            case (2, 2): raw = try envelope.lengthDelimited()
            case (3, 2):
                let encoding = try envelope.lengthDelimited()
                guard encoding.isEmpty else {
                    throw StatusError.badRequest("the protobuf body's content encoding \"\(String(decoding: encoding, as: UTF8.self))\" is not supported")
                }
            default: try envelope.skip(wire)
            }
        }
        guard let message = schema.messageType(apiVersion: apiVersion, kind: kind) else {
            throw StatusError(code: 415, reason: "UnsupportedMediaType",
                              message: "the protobuf encoding of \(apiVersion) \(kind) is not supported by this server; send application/json")
        }
        guard case .object(var object) = try decode(raw, type: message, depth: depth + 1) else {
            throw StatusError.badRequest("the protobuf body is not an object")
        }
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return .object(object)
    }

    func decode(_ bytes: ArraySlice<UInt8>, type: String, depth: Int = 0) throws -> JSON {
        guard depth < Self.maximumDepth else {
            throw StatusError.badRequest("the protobuf body nests messages deeper than \(Self.maximumDepth) levels")
        }
        guard let message = schema.messages[type] else {
            throw StatusError(code: 415, reason: "UnsupportedMediaType", message: "protobuf message \(type) is not supported; send application/json")
        }
        if let form = message.form { return try decode(bytes, form: form, message: message, depth: depth) }
        return .object(try members(bytes, message: message, depth: depth))
    }

    /// The JSON members of a message (an inlined message's members join its parent's).
    func members(_ bytes: ArraySlice<UInt8>, message: ProtobufSchema.Message, depth: Int) throws -> [String: JSON] {
        var reader = ProtobufReader(bytes)
        var present: [Int: JSON] = [:]
        // Lists and maps grow in place, each once per field (appending through `present`
        // would copy the list at every element).
        var lists: [Int: [JSON]] = [:]
        var maps: [Int: [String: JSON]] = [:]
        var inlineBytes: [Int: ArraySlice<UInt8>] = [:]
        while let (number, wire) = try reader.nextTag() {
            guard let field = message.fields[number] else {
                try reader.skip(wire)
                continue
            }
            if field.inline {
                guard wire == 2 else { throw wrongWire(field, message) }
                inlineBytes[number] = try reader.lengthDelimited()
                continue
            }
            switch field.shape {
            case .single:
                present[number] = try value(&reader, wire: wire, field: field, message: message, depth: depth)
            case .repeated:
                if wire == 2, field.wireType != 2 {
                    var packed = ProtobufReader(try reader.lengthDelimited())
                    while !packed.atEnd {
                        lists[number, default: []].append(try value(&packed, wire: field.wireType, field: field, message: message, depth: depth))
                    }
                } else {
                    lists[number, default: []].append(try value(&reader, wire: wire, field: field, message: message, depth: depth))
                }
            case .map:
                guard wire == 2 else { throw wrongWire(field, message) }
                var entry = ProtobufReader(try reader.lengthDelimited())
                var key = ""
                var mapValue: JSON? = nil
                while let (n, w) = try entry.nextTag() {
                    if n == 1, w == 2 { key = String(decoding: try entry.lengthDelimited(), as: UTF8.self) }
                    else if n == 2 { mapValue = try value(&entry, wire: w, field: field, message: message, depth: depth) }
                    else { try entry.skip(w) }
                }
                maps[number, default: [:]][key] = try mapValue ?? zero(field, depth: depth)
            }
        }
        for (number, list) in lists { present[number] = .array(list) }
        for (number, map) in maps { present[number] = .object(map) }
        var members: [String: JSON] = [:]
        for field in message.ordered {
            if field.inline {
                guard let inner = schema.messages[field.messageType] else { continue }
                for (k, v) in try self.members(inlineBytes[field.number] ?? [], message: inner, depth: depth + 1) { members[k] = v }
                continue
            }
            if let value = present[field.number] {
                if field.pointer || !(field.omitEmpty && isEmpty(value, field)) { members[field.name] = value }
            } else if !field.pointer {
                let zero = try zero(field, depth: depth)
                if !(field.omitEmpty && isEmpty(zero, field)) { members[field.name] = zero }
            }
        }
        try budget.spend(members.count + 1)
        return members
    }

    /// What Go writes for a field it holds by value and the wire did not carry.
    func zero(_ field: ProtobufSchema.Field, depth: Int) throws -> JSON {
        if field.shape != .single { return .null }
        switch field.kind {
        case UInt8(ascii: "s"): return .string("")
        case UInt8(ascii: "b"): return .null
        case UInt8(ascii: "t"): return .bool(false)
        case UInt8(ascii: "d"), UInt8(ascii: "e"): return .double(0)
        case UInt8(ascii: "m"): return try decode([], type: field.messageType, depth: depth + 1)
        default: return .int(0)
        }
    }

    /// Whether `omitempty` leaves the value out: zero scalars, empty strings, slices and maps.
    /// Structs are never left out; named slices (the array form) are.
    func isEmpty(_ value: JSON, _ field: ProtobufSchema.Field) -> Bool {
        if field.shape != .single || field.kind == UInt8(ascii: "b") {
            switch value {
            case .null: return true
            case .array(let a): return a.isEmpty
            case .object(let o): return o.isEmpty
            case .string(let s): return s.isEmpty
            default: return false
            }
        }
        if field.kind == UInt8(ascii: "m") {
            guard schema.messages[field.messageType]?.form == .array else { return false }
            return value == .null || value.arrayValue?.isEmpty == true
        }
        switch value {
        case .string(let s): return s.isEmpty
        case .int(let i): return i == 0
        case .double(let d): return d == 0
        case .bool(let b): return !b
        case .null: return true
        default: return false
        }
    }

    func wrongWire(_ field: ProtobufSchema.Field, _ message: ProtobufSchema.Message) -> StatusError {
        .badRequest("protobuf field \(field.number) of \(message.name) has the wrong wire type")
    }

    func value(_ reader: inout ProtobufReader, wire: Int, field: ProtobufSchema.Field, message: ProtobufSchema.Message,
               depth: Int) throws -> JSON {
        guard wire == field.wireType else { throw wrongWire(field, message) }
        switch field.kind {
        case UInt8(ascii: "s"): return .string(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
        case UInt8(ascii: "b"): return .string(Data(try reader.lengthDelimited()).base64EncodedString())
        case UInt8(ascii: "t"): return .bool(try reader.varint() != 0)
        case UInt8(ascii: "i"): return .int(Int64(bitPattern: try reader.varint()))
        case UInt8(ascii: "z"):
            let v = try reader.varint()
            return .int(Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try reader.fixed64()))
        case UInt8(ascii: "x"): return .int(Int64(bitPattern: try reader.fixed64()))
        case UInt8(ascii: "e"): return .double(Double(Float(bitPattern: try reader.fixed32())))
        case UInt8(ascii: "y"): return .int(Int64(try reader.fixed32()))
        case UInt8(ascii: "m"): return try decode(try reader.lengthDelimited(), type: field.messageType, depth: depth + 1)
        default: throw StatusError.badRequest("unsupported protobuf value kind in \(message.name)")
        }
    }

    /// Messages Go marshals to JSON by hand.
    func decode(_ bytes: ArraySlice<UInt8>, form: ProtobufSchema.Form, message: ProtobufSchema.Message, depth: Int) throws -> JSON {
        var reader = ProtobufReader(bytes)
        var numbers: [Int: UInt64] = [:]
        var strings: [Int: ArraySlice<UInt8>] = [:]
        var repeated: [ArraySlice<UInt8>] = []
        // The repeated member of the forms that have one.
        let repeatedNumber = form == .array ? 1 : 2
        while let (n, w) = try reader.nextTag() {
            switch w {
            case 0: numbers[n] = try reader.varint()
            case 2:
                let value = try reader.lengthDelimited()
                strings[n] = value
                if n == repeatedNumber { repeated.append(value) }
            default: try reader.skip(w)
            }
        }
        func text(_ n: Int) -> String { String(decoding: strings[n] ?? [], as: UTF8.self) }
        func schemaProps(_ bytes: ArraySlice<UInt8>) throws -> JSON {
            guard let field = message.fields.values.first(where: { $0.kind == UInt8(ascii: "m") }) else { return .null }
            return try decode(bytes, type: field.messageType, depth: depth + 1)
        }
        switch form {
        case .time, .microtime:
            // Go: no bytes is the zero time (JSON null); Time keeps whole seconds only.
            guard !bytes.isEmpty else { return .null }
            let seconds = Int64(bitPattern: numbers[1] ?? 0)
            // Go cannot write a time outside years 0–9999 in JSON; refused as Go refuses it.
            guard seconds >= -62_167_219_200, seconds <= 253_402_300_799 else {
                throw StatusError.badRequest("Time.MarshalJSON: year outside of range [0,9999]")
            }
            let nanos = form == .microtime ? Int64(Int32(truncatingIfNeeded: numbers[2] ?? 0)) : 0
            return .string(RFC3339.string(seconds: seconds, nanoseconds: nanos, micro: form == .microtime))
        case .duration:
            return .string(KubernetesProtobuf.goDuration(nanoseconds: Int64(bitPattern: numbers[1] ?? 0)))
        case .intorstring:
            if numbers[1] == 1 { return .string(text(3)) }
            return .int(Int64(Int32(truncatingIfNeeded: numbers[2] ?? 0)))
        case .quantity:
            let value = text(1)
            guard !value.isEmpty else { return "0" }
            guard Quantity(value) != nil else {
                throw StatusError.badRequest("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            }
            return .string(value)
        case .raw:
            guard let raw = strings[1] else { return .null }
            if raw.isEmpty { return .null }
            // An embedded object in protobuf: the same depth and budget carry on into it.
            if raw.starts(with: KubernetesProtobuf.magic) { return try envelope(raw, depth: depth + 1) }
            do { return try JSON.parse(raw) } catch {
                throw StatusError.badRequest("embedded JSON in \(message.name) is not valid: \(error)")
            }
        case .array:
            return repeated.isEmpty ? .null : .array(repeated.map { .string(String(decoding: $0, as: UTF8.self)) })
        case .schemaOrArray:
            if let schema = strings[1] { return try schemaProps(schema) }
            return .array(try repeated.map(schemaProps))
        case .schemaOrBool:
            if let schema = strings[2] { return try schemaProps(schema) }
            return .bool((numbers[1] ?? 0) != 0)
        case .schemaOrStringArray:
            if let schema = strings[1] { return try schemaProps(schema) }
            return .array(repeated.map { .string(String(decoding: $0, as: UTF8.self)) })
        }
    }
}
