import Foundation
import OpenAPIDocuments

/// The protobuf wire schema of the built-in kinds (`openapi/protobuf.json`): for each message,
/// field number → JSON name, shape and value kind.
public struct ProtobufSchema: Sendable {
    public struct Field: Sendable {
        public enum Shape: Sendable { case single, repeated, map, inline }
        public var name: String
        public var shape: Shape
        /// `s` string, `b` bytes, `t` bool, `i` varint, `z` zigzag varint, `d` double,
        /// `e` float, `m` message.
        public var kind: Character
        public var messageType: String
        /// Whether the field is required (so a zero value is still written in JSON).
        public var required: Bool
    }

    public private(set) var messages: [String: [Int: Field]] = [:]
    /// `group/version/Kind` → message name.
    public private(set) var kinds: [String: String] = [:]

    /// The schema generated from kubectl's descriptors.
    public static func builtIn() throws -> ProtobufSchema {
        try ProtobufSchema(json: JSON.parse(Array(try OpenAPIDocuments.protobuf())))
    }

    init(json: JSON) throws {
        for (kind, message) in json["kinds"]?.objectValue ?? [:] {
            kinds[kind] = message.stringValue
        }
        for (name, table) in json["messages"]?.objectValue ?? [:] {
            var fields: [Int: Field] = [:]
            for (number, entry) in table.objectValue ?? [:] {
                guard let n = Int(number), let e = entry.arrayValue, e.count >= 4,
                      let fieldName = e[0].stringValue, let shape = e[1].stringValue,
                      let kind = e[2].stringValue?.first, let type = e[3].stringValue else { continue }
                let s: Field.Shape = shape == "r" ? .repeated : shape == "M" ? .map : shape == "I" ? .inline : .single
                fields[n] = Field(name: fieldName, shape: s, kind: kind, messageType: type, required: e.count > 4)
            }
            messages[name] = fields
        }
    }

    /// The message of a kind, by its apiVersion and kind.
    public func message(apiVersion: String, kind: String) -> String? {
        let parts = apiVersion.split(separator: "/")
        let key = parts.count == 2 ? "\(parts[0])/\(parts[1])/\(kind)" : "/\(apiVersion)/\(kind)"
        return kinds[key]
    }
}
