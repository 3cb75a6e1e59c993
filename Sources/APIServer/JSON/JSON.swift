/// A JSON value: the generic form in which the resource engine reads, changes and writes
/// every object, built-in or custom.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// An empty object.
    public static let emptyObject = JSON.object([:])

    /// The member `key` of an object; `nil` for a missing member or a non-object. Setting
    /// `nil` removes the member; setting on a non-object makes it an object.
    public subscript(key: String) -> JSON? {
        get {
            if case .object(let members) = self { return members[key] }
            return nil
        }
        set {
            var members: [String: JSON]
            if case .object(let existing) = self { members = existing } else { members = [:] }
            self = .null
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The value at a path of object members.
    public subscript(path path: [String]) -> JSON? {
        get {
            var node: JSON? = self
            for key in path { node = node?[key] }
            return node
        }
        set {
            guard let first = path.first else {
                if let newValue { self = newValue }
                return
            }
            if path.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first] ?? .emptyObject
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: [String: JSON]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The JSON type's name as Kubernetes error messages spell it.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}
