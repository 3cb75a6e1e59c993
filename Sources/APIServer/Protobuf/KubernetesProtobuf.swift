import Foundation

/// Reads request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`):
/// the `k8s\0` magic, a `runtime.Unknown` envelope carrying apiVersion, kind and the raw
/// message, decoded through the ``ProtobufSchema`` into the same JSON object a JSON client
/// would have sent. Scalars at their zero value are left out unless the field is required or
/// its zero means something (Go's `omitempty` on non-pointer fields), as Kubernetes' JSON does.
public struct KubernetesProtobuf: Sendable {
    public let schema: ProtobufSchema

    public init(schema: ProtobufSchema) { self.schema = schema }

    /// The media type typed clients send.
    public static let mediaType = "application/vnd.kubernetes.protobuf"

    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// Pointer fields whose zero value is meaningful and must survive decoding.
    static let meaningfulZero: Set<String> = [
        "replicas", "automountServiceAccountToken", "storageClassName", "suspend", "parallelism", "completions",
        "backoffLimit", "revisionHistoryLimit", "successfulJobsHistoryLimit", "failedJobsHistoryLimit",
        "terminationGracePeriodSeconds", "ttlSecondsAfterFinished", "enableServiceLinks", "runAsNonRoot", "runAsUser",
        "runAsGroup", "fsGroup", "privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "immutable",
        "optional", "hostUsers", "shareProcessNamespace", "setHostnameAsFQDN", "allocateLoadBalancerNodePorts",
        "gracePeriodSeconds", "orphanDependents", "minAvailable", "maxUnavailable", "maxSurge", "minReplicas",
        "progressDeadlineSeconds", "activeDeadlineSeconds", "startingDeadlineSeconds", "priority", "expirationSeconds",
        "manualSelector", "defaultMode", "mode", "value", "partition", "holderIdentity", "leaseDurationSeconds",
        "leaseTransitions", "ready", "serving", "terminating",
    ]

    /// Decodes a protobuf request body; throws a 415 `Status` for a kind without a schema and
    /// a 400 for malformed bytes or unknown fields.
    public func decode(_ body: [UInt8]) throws -> JSON {
        guard body.count >= 4, Array(body.prefix(4)) == Self.magic else {
            throw StatusError.badRequest("the protobuf body does not start with the Kubernetes magic number")
        }
        var envelope = ProtobufReader(body[4...])
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
            default: try envelope.skip(wire)
            }
        }
        guard let message = schema.message(apiVersion: apiVersion, kind: kind) else {
            throw StatusError(code: 415, reason: "UnsupportedMediaType",
                              message: "the protobuf encoding of \(apiVersion) \(kind) is not supported by this server; send application/json")
        }
        var object = try decodeMessage(raw, type: message)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    func decodeMessage(_ bytes: ArraySlice<UInt8>, type: String) throws -> JSON {
        guard let fields = schema.messages[type] else {
            throw StatusError(code: 415, reason: "UnsupportedMediaType", message: "protobuf message \(type) is not supported; send application/json")
        }
        var reader = ProtobufReader(bytes)
        var members: [String: JSON] = [:]
        var seen = Set<String>()
        while let (number, wire) = try reader.nextTag() {
            guard let field = fields[number] else {
                throw StatusError.badRequest("protobuf field \(number) of \(type) is not known to this server")
            }
            seen.insert(field.name)
            switch field.shape {
            case .single:
                members[field.name] = try value(&reader, wire: wire, field: field)
            case .inline:
                let inner = try decodeMessage(try reader.lengthDelimited(), type: field.messageType)
                for (k, v) in inner.objectValue ?? [:] { members[k] = v }
            case .repeated:
                var list = members[field.name]?.arrayValue ?? []
                if wire == 2, "itzdexy".contains(field.kind) {
                    var packed = ProtobufReader(try reader.lengthDelimited())
                    while !packed.atEnd { list.append(try value(&packed, wire: field.kind == "d" || field.kind == "x" ? 1 : field.kind == "e" || field.kind == "y" ? 5 : 0, field: field)) }
                } else {
                    list.append(try value(&reader, wire: wire, field: field))
                }
                members[field.name] = .array(list)
            case .map:
                var entry = ProtobufReader(try reader.lengthDelimited())
                var key = "", mapValue: JSON = .null
                while let (n, w) = try entry.nextTag() {
                    if n == 1 { key = String(decoding: try entry.lengthDelimited(), as: UTF8.self) }
                    else if n == 2 { mapValue = try value(&entry, wire: w, field: field) }
                    else { try entry.skip(w) }
                }
                if mapValue == .null { mapValue = field.kind == "m" ? .emptyObject : (field.kind == "t" ? false : field.kind == "s" || field.kind == "b" ? "" : 0) }
                var map = members[field.name]?.objectValue ?? [:]
                map[key] = mapValue
                members[field.name] = .object(map)
            }
        }
        // Go's omitempty: zero scalars of optional non-pointer fields are not part of the object.
        for field in fields.values where field.shape == .single && field.kind != "m" {
            guard let member = members[field.name], !field.required, !Self.meaningfulZero.contains(field.name) else { continue }
            switch member {
            case .string(""), .int(0), .bool(false), .double(0): members[field.name] = nil
            default: break
            }
        }
        for field in fields.values where field.shape == .single && field.kind == "m" && members[field.name] == .null {
            members[field.name] = nil
        }
        return .object(members)
    }

    func value(_ reader: inout ProtobufReader, wire: Int, field: ProtobufSchema.Field) throws -> JSON {
        switch field.kind {
        case "s": return .string(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
        case "b": return .string(Data(try reader.lengthDelimited()).base64EncodedString())
        case "t": return .bool(try reader.varint() != 0)
        case "i": return .int(Int64(bitPattern: try reader.varint()))
        case "z":
            let v = try reader.varint()
            return .int(Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))))
        case "d", "x":
            let bits = try reader.fixed64()
            return field.kind == "d" ? .double(Double(bitPattern: bits)) : .int(Int64(bitPattern: bits))
        case "e", "y":
            let bits = try reader.fixed32()
            return field.kind == "e" ? .double(Double(Float(bitPattern: bits))) : .int(Int64(bits))
        case "m": return try special(try reader.lengthDelimited(), type: field.messageType)
        default: throw StatusError.badRequest("unsupported protobuf value kind \(field.kind)")
        }
    }

    /// Messages with a JSON form of their own; others decode field by field.
    func special(_ bytes: ArraySlice<UInt8>, type: String) throws -> JSON {
        let short = type.split(separator: ".").last.map(String.init) ?? type
        guard type.hasPrefix("k8s.io.apimachinery."),
              ["Time", "MicroTime", "Duration", "FieldsV1", "IntOrString", "Quantity", "RawExtension"].contains(short) else {
            return try decodeMessage(bytes, type: type)
        }
        var reader = ProtobufReader(bytes)
        var numbers: [Int: UInt64] = [:]
        var strings: [Int: ArraySlice<UInt8>] = [:]
        while let (n, w) = try reader.nextTag() {
            if w == 0 { numbers[n] = try reader.varint() }
            else if w == 2 { strings[n] = try reader.lengthDelimited() }
            else { try reader.skip(w) }
        }
        switch short {
        case "Time", "MicroTime":
            guard numbers[1] != nil || numbers[2] != nil else { return .null }
            let seconds = Double(Int64(bitPattern: numbers[1] ?? 0)) + Double(numbers[2] ?? 0) / 1e9
            let date = Date(timeIntervalSince1970: seconds)
            return .string(short == "Time" ? RFC3339.string(date) : RFC3339.microString(date))
        case "Duration":
            return .string(Self.goDuration(nanoseconds: Int64(bitPattern: numbers[1] ?? 0)))
        case "IntOrString":
            if numbers[1] == 1 { return .string(String(decoding: strings[3] ?? [], as: UTF8.self)) }
            return .int(Int64(Int32(truncatingIfNeeded: numbers[2] ?? 0)))
        case "Quantity":
            return .string(String(decoding: strings[1] ?? [], as: UTF8.self))
        default:   // FieldsV1, RawExtension: raw JSON bytes
            guard let raw = strings[1], !raw.isEmpty else { return .null }
            do { return try JSON.parse(raw) } catch {
                throw StatusError.badRequest("embedded JSON in \(short) is not valid: \(error)")
            }
        }
    }

    /// A duration in Go's `time.Duration` text form (`1h2m3s`, `1.5s`, `300ms`).
    static func goDuration(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        var n = nanoseconds.magnitude
        var text = ""
        if n < 1_000_000_000 {
            if n % 1_000_000 == 0 { text = "\(n / 1_000_000)ms" }
            else if n % 1000 == 0 { text = "\(n / 1000)µs" }
            else { text = "\(n)ns" }
        } else {
            let hours = n / 3_600_000_000_000
            n -= hours * 3_600_000_000_000
            let minutes = n / 60_000_000_000
            n -= minutes * 60_000_000_000
            var seconds = String(n / 1_000_000_000)
            let fraction = n % 1_000_000_000
            if fraction > 0 {
                var digits = String(fraction)
                digits = String(repeating: "0", count: 9 - digits.count) + digits
                while digits.hasSuffix("0") { digits.removeLast() }
                seconds += "." + digits
            }
            if hours > 0 { text = "\(hours)h\(minutes)m\(seconds)s" }
            else if minutes > 0 { text = "\(minutes)m\(seconds)s" }
            else { text = "\(seconds)s" }
        }
        return negative ? "-" + text : text
    }
}

/// Reads protobuf wire format: tags, varints, fixed-width and length-delimited values.
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

    mutating func nextTag() throws -> (Int, Int)? {
        if bytes.isEmpty { return nil }
        let tag = try varint()
        return (Int(tag >> 3), Int(tag & 7))
    }

    mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(bytes.count) else { throw Self.malformed() }
        let value = bytes.prefix(Int(length))
        bytes = bytes.dropFirst(Int(length))
        return value
    }

    mutating func fixed64() throws -> UInt64 {
        guard bytes.count >= 8 else { throw Self.malformed() }
        var value: UInt64 = 0
        for (i, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        bytes = bytes.dropFirst(8)
        return value
    }

    mutating func fixed32() throws -> UInt32 {
        guard bytes.count >= 4 else { throw Self.malformed() }
        var value: UInt32 = 0
        for (i, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << (8 * UInt32(i)) }
        bytes = bytes.dropFirst(4)
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
