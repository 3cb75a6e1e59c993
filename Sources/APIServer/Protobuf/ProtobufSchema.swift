import Foundation
import OpenAPIDocuments

/// Kubernetes' protobuf wire schema (`openapi/protobuf.json`, made by
/// `scripts/generate-protobuf` from the 1.35 `generated.proto` files and Go types): for every
/// message its fields by number, with what Go's JSON encoding needs to keep zero and absent
/// apart, and the kinds that name a message.
public struct ProtobufSchema: Sendable {
    /// A message's JSON form where Go marshals it by hand instead of field by field.
    public enum Form: String, Sendable {
        case time, microtime, duration, intorstring, quantity
        /// JSON text carried as bytes (`RawExtension`, `FieldsV1`, apiextensions `JSON`).
        case raw
        /// A named slice wrapped in a message (`Verbs`, `ExtraValue`): a JSON array.
        case array
        case schemaOrArray, schemaOrBool, schemaOrStringArray
    }

    public struct Field: Sendable {
        public enum Shape: Sendable { case single, repeated, map }
        public var number: Int
        /// The JSON member name ("" for an inlined struct).
        public var name: String
        public var shape: Shape
        /// `s` string, `b` bytes, `t` bool, `i` varint, `z` zigzag varint, `d` double,
        /// `e` float, `x` fixed64, `y` fixed32, `m` message.
        public var kind: UInt8
        public var messageType: String
        /// Go holds the field by pointer: present means set, even at zero.
        public var pointer: Bool
        /// Go's JSON tag says `omitempty`.
        public var omitEmpty: Bool
        /// Go's `json:",inline"`: the message's members are the parent's.
        public var inline: Bool

        /// The wire type a value of this kind uses.
        var wireType: Int {
            switch kind {
            case UInt8(ascii: "d"), UInt8(ascii: "x"): return 1
            case UInt8(ascii: "e"), UInt8(ascii: "y"): return 5
            case UInt8(ascii: "s"), UInt8(ascii: "b"), UInt8(ascii: "m"): return 2
            default: return 0
            }
        }
    }

    public struct Message: Sendable {
        public var name: String
        public var fields: [Int: Field]
        /// The fields in number order, as Go writes them.
        public var ordered: [Field]
        public var form: Form?
    }

    public private(set) var messages: [String: Message] = [:]
    /// `group/version/Kind` (`/v1/Kind` for core) → message name.
    public private(set) var kinds: [String: String] = [:]

    /// The schema generated from Kubernetes' definitions.
    public static func builtIn() throws -> ProtobufSchema {
        try ProtobufSchema(json: JSON.parse(Array(try OpenAPIDocuments.protobuf())))
    }

    init(json: JSON) throws {
        for (kind, message) in json["kinds"]?.objectValue ?? [:] {
            kinds[kind] = message.stringValue
        }
        let forms = json["forms"]?.objectValue ?? [:]
        for (name, table) in json["messages"]?.objectValue ?? [:] {
            var fields: [Int: Field] = [:]
            for (number, entry) in table.objectValue ?? [:] {
                guard let n = Int(number), let e = entry.arrayValue, e.count >= 5,
                      let fieldName = e[0].stringValue, let shape = e[1].stringValue,
                      let kind = e[2].stringValue?.utf8.first, let type = e[3].stringValue,
                      let flags = e[4].stringValue else { continue }
                fields[n] = Field(number: n, name: fieldName, shape: shape == "r" ? .repeated : shape == "M" ? .map : .single,
                                  kind: kind, messageType: type, pointer: flags.contains("p"),
                                  omitEmpty: flags.contains("o"), inline: flags.contains("i"))
            }
            messages[name] = Message(name: name, fields: fields, ordered: fields.values.sorted { $0.number < $1.number },
                                     form: forms[name]?.stringValue.flatMap(Form.init(rawValue:)))
        }
    }

    /// The message of a kind, by its apiVersion and kind.
    public func message(apiVersion: String, kind: String) -> String? {
        kinds[Self.kindKey(apiVersion: apiVersion, kind: kind)]
    }

    /// The meta.k8s.io types every group version also carries.
    static let metaKinds: Set<String> = ["DeleteOptions", "WatchEvent", "Status", "ListOptions", "GetOptions", "CreateOptions",
                                         "UpdateOptions", "PatchOptions", "PartialObjectMetadata", "PartialObjectMetadataList"]
    static let metaPackage = "k8s.io.apimachinery.pkg.apis.meta.v1."

    /// The message a kind is written as, the meta types in any group version included; nil for
    /// kinds without one (custom resources, Tables).
    public func messageType(apiVersion: String, kind: String) -> String? {
        if let message = message(apiVersion: apiVersion, kind: kind) { return message }
        if Self.metaKinds.contains(kind), messages[Self.metaPackage + kind] != nil { return Self.metaPackage + kind }
        return nil
    }

    static func kindKey(apiVersion: String, kind: String) -> String {
        apiVersion.contains("/") ? "\(apiVersion)/\(kind)" : "/\(apiVersion)/\(kind)"
    }
}
