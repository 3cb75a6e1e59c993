/// A value bound to, or read from, a SQL statement.
///
/// The cases are the storage classes SQLite (and dqlite, which speaks SQLite's types over
/// its wire protocol) keep: every backend maps its own types onto these.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as an integer, or `nil` when it is not one.
    public var integer: Int64? {
        if case .integer(let v) = self { return v }
        return nil
    }

    /// The value as bytes: blobs as they are, text as UTF-8, `nil` for anything else.
    public var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }

    /// The value as text: text as it is, blobs decoded as UTF-8, `nil` for anything else.
    public var text: String? {
        switch self {
        case .text(let s): return s
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// Whether the value is SQL `NULL`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension SQLValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension SQLValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}
