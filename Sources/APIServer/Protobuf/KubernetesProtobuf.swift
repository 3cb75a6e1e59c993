import Foundation

/// Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`): the `k8s\0` magic
/// and a `runtime.Unknown` envelope carrying apiVersion, kind and the message, read into and
/// written from the same JSON object a JSON client would send or get (see ``ProtobufDecoder``
/// and ``ProtobufEncoder``), and watch streams framed as kube-apiserver frames them.
public struct KubernetesProtobuf: Sendable {
    public let schema: ProtobufSchema

    public init(schema: ProtobufSchema) { self.schema = schema }

    /// The media type typed clients send.
    public static let mediaType = "application/vnd.kubernetes.protobuf"
    /// The media type of a protobuf watch stream.
    public static let watchMediaType = "application/vnd.kubernetes.protobuf;stream=watch"

    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The message a kind is written as, if it has one (custom resources and Tables do not).
    public func messageType(apiVersion: String, kind: String) -> String? {
        schema.messageType(apiVersion: apiVersion, kind: kind)
    }

    /// Decodes a protobuf request body; throws a 415 `Status` for a kind without a schema and
    /// a 400 for malformed bytes.
    public func decode(_ body: [UInt8]) throws -> JSON {
        try ProtobufDecoder(schema: schema).envelope(body[...], depth: 0)
    }

    /// The object (with its apiVersion and kind) in protobuf, envelope and magic included; nil
    /// when its kind has no protobuf message.
    public func encode(_ object: JSON) -> [UInt8]? {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
              let message = messageType(apiVersion: apiVersion, kind: kind) else { return nil }
        return Self.envelope(apiVersion: apiVersion, kind: kind, raw: ProtobufEncoder(schema: schema).encode(object, type: message))
    }

    /// The magic and the `runtime.Unknown` around an encoded message.
    static func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        var envelope = ProtobufWriter(reservingCapacity: raw.count + 64)
        envelope.append(magic)
        envelope.nested(1) { typeMeta in
            typeMeta.string(1, apiVersion)
            typeMeta.string(2, kind)
        }
        envelope.message(2, raw)
        envelope.string(3, "")
        envelope.string(4, "")
        return envelope.bytes
    }

    /// A list (`metadata` as ListMeta, `items` as objects) in protobuf, written item by item
    /// without building the list's JSON first; nil when the list kind has no message.
    public func encodeList(apiVersion: String, kind: String, metadata: JSON, items: [JSON]) -> [UInt8]? {
        guard let type = messageType(apiVersion: apiVersion, kind: kind), let list = schema.messages[type],
              let metaField = list.fields[1], let itemsField = list.fields[2],
              let itemMessage = schema.messages[itemsField.messageType],
              let listMeta = schema.messages[metaField.messageType] else { return nil }
        let encoder = ProtobufEncoder(schema: schema)
        var body = ProtobufWriter()
        body.nested(1) { encoder.write(metadata, message: listMeta, into: &$0) }
        for item in items { body.nested(2) { encoder.write(item, message: itemMessage, into: &$0) } }
        return Self.envelope(apiVersion: apiVersion, kind: kind, raw: body.bytes)
    }

    /// One frame of a protobuf watch stream: a 4-byte big-endian length, then a `WatchEvent`
    /// whose object is the encoded object (magic and envelope included). Nil when the object's
    /// kind has no protobuf message.
    public func watchFrame(type: String, object: JSON) -> [UInt8]? {
        guard let encoded = encode(object) else { return nil }
        var event = ProtobufWriter(reservingCapacity: encoded.count + 32)
        event.string(1, type)
        event.nested(2) { $0.message(1, encoded) }
        let length = UInt32(truncatingIfNeeded: event.bytes.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + event.bytes
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
