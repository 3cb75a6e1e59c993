import Foundation

/// A value of the Common Expression Language, as the evaluator computes with it.
public enum CELValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([CELValue])
    case map([CELValue: CELValue])
    case duration(Double)
    case timestamp(Date)
    /// A type, as `type(x)` returns and type names denote.
    case type(String)

    /// A JSON value as CEL sees it (objects as maps with string keys).
    public init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(CELValue.init))
        case .object(let members):
            self = .map(Dictionary(uniqueKeysWithValues: members.map { (CELValue.string($0.key), CELValue($0.value)) }))
        }
    }

    /// The value back as JSON (for messages and mutations).
    public var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return .int(Int64(clamping: u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Data(b).base64EncodedString())
        case .list(let items): return .array(items.map(\.json))
        case .map(let entries):
            var members: [String: JSON] = [:]
            for (key, value) in entries { members[key.text] = value.json }
            return .object(members)
        case .duration, .timestamp, .type: return .string(text)
        }
    }

    /// The CEL type name.
    public var typeName: String {
        switch self {
        case .null: return "null_type"
        case .bool: return "bool"
        case .int: return "int"
        case .uint: return "uint"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .list: return "list"
        case .map: return "map"
        case .duration: return "google.protobuf.Duration"
        case .timestamp: return "google.protobuf.Timestamp"
        case .type: return "type"
        }
    }

    /// The value as `string()` renders it.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.0f", d) : String(d)
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .list(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.map { "\($0.key.text): \($0.value.text)" }.sorted().joined(separator: ", ") + "}"
        case .duration(let seconds): return String(format: "%gs", seconds)
        case .timestamp(let date): return RFC3339.string(date)
        case .type(let name): return name
        }
    }

    /// The value as a number, for comparisons across int, uint and double.
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }
}

/// An evaluation error (no such key, a type mismatch, a division by zero…).
public struct CELError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
