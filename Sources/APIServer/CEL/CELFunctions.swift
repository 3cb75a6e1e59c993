import Foundation

/// CEL's standard functions, the string and list extensions Kubernetes enables, and
/// Kubernetes' quantity, URL-free helpers used in validation rules.
enum CELFunctions {
    /// A whole number of a double, or CEL's overflow error (a trap in Int64(_:)).
    static func integer(_ value: Double) throws -> Int64 {
        guard let integer = Int64(exactly: value) else { throw CELError("integer overflow") }
        return integer
    }

    static func call(_ name: String, target: CELValue?, arguments: [CELValue]) throws -> CELValue {
        if let target { return try method(name, target, arguments) }
        switch (name, arguments.count) {
        case ("size", 1): return try method("size", arguments[0], [])
        case ("int", 1): return try toInt(arguments[0])
        case ("uint", 1): return try toUInt(arguments[0])
        case ("double", 1): return try toDouble(arguments[0])
        case ("string", 1): return .string(arguments[0].text)
        case ("bytes", 1): return .bytes(Array(arguments[0].text.utf8))
        case ("bool", 1):
            switch arguments[0] {
            case .bool: return arguments[0]
            case .string(let s) where ["true", "TRUE", "True", "t", "1"].contains(s): return .bool(true)
            case .string(let s) where ["false", "FALSE", "False", "f", "0"].contains(s): return .bool(false)
            default: throw CELError("type conversion error to bool from \(arguments[0].typeName)")
            }
        case ("type", 1): return .type(arguments[0].typeName)
        case ("dyn", 1): return arguments[0]
        case ("matches", 2): return try method("matches", arguments[0], [arguments[1]])
        case ("duration", 1):
            guard case .string(let text) = arguments[0], let seconds = GoDuration.seconds(text) else {
                throw CELError("invalid duration \(arguments[0].text)")
            }
            return .duration(seconds)
        case ("timestamp", 1):
            guard case .string(let text) = arguments[0], let date = RFC3339.parse(text) else {
                throw CELError("invalid timestamp \(arguments[0].text)")
            }
            return .timestamp(date)
        case ("quantity", 1):
            guard case .string(let text) = arguments[0], let quantity = Quantity(text) else {
                throw CELError("invalid quantity \(arguments[0].text)")
            }
            return .double(NSDecimalNumber(decimal: quantity.value).doubleValue)
        case ("isQuantity", 1):
            guard case .string(let text) = arguments[0] else { return .bool(false) }
            return .bool(Quantity(text) != nil)
        default:
            throw CELError("found no matching overload for '\(name)' applied to (\(arguments.map(\.typeName).joined(separator: ", ")))")
        }
    }

    static func method(_ name: String, _ target: CELValue, _ arguments: [CELValue]) throws -> CELValue {
        switch (target, name, arguments.count) {
        case (.string(let s), "size", 0): return .int(Int64(s.unicodeScalars.count))
        case (.bytes(let b), "size", 0): return .int(Int64(b.count))
        case (.list(let items), "size", 0): return .int(Int64(items.count))
        case (.map(let entries), "size", 0): return .int(Int64(entries.count))
        case (.string(let s), "startsWith", 1): return .bool(s.hasPrefix(try string(arguments[0])))
        case (.string(let s), "endsWith", 1): return .bool(s.hasSuffix(try string(arguments[0])))
        case (.string(let s), "contains", 1):
            let needle = try string(arguments[0])
            return .bool(needle.isEmpty || s.contains(needle))
        case (.string(let s), "matches", 1):
            let pattern = try string(arguments[0])
            guard let regex = try? NSRegularExpression(pattern: pattern) else { throw CELError("invalid regular expression: \(pattern)") }
            return .bool(regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil)
        case (.string(let s), "lowerAscii", 0): return .string(String(s.map { $0.isASCII ? Character($0.lowercased()) : $0 }))
        case (.string(let s), "upperAscii", 0): return .string(String(s.map { $0.isASCII ? Character($0.uppercased()) : $0 }))
        case (.string(let s), "trim", 0): return .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        case (.string(let s), "split", 1):
            let separator = try string(arguments[0])
            if separator.isEmpty { return .list(s.map { .string(String($0)) }) }
            return .list(s.components(separatedBy: separator).map { .string($0) })
        case (.string(let s), "replace", 2):
            return .string(s.replacingOccurrences(of: try string(arguments[0]), with: try string(arguments[1])))
        case (.string(let s), "indexOf", 1):
            let needle = try string(arguments[0])
            guard let range = s.range(of: needle) else { return .int(-1) }
            return .int(Int64(s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: range.lowerBound)))
        case (.string(let s), "substring", 1), (.string(let s), "substring", 2):
            let scalars = Array(s.unicodeScalars)
            let start = Int(try int(arguments[0]))
            let end = arguments.count == 2 ? Int(try int(arguments[1])) : scalars.count
            guard start >= 0, end <= scalars.count, start <= end else { throw CELError("index out of range in substring") }
            return .string(String(String.UnicodeScalarView(scalars[start..<end])))
        case (.list(let items), "join", 0), (.list(let items), "join", 1):
            let separator = arguments.isEmpty ? "" : try string(arguments[0])
            return .string(try items.map(string).joined(separator: separator))
        case (.list(let items), "isSorted", 0):
            return .bool(try zip(items, items.dropFirst()).allSatisfy { try CELOperators.compare($0, $1, "<=") <= 0 })
        case (.list(let items), "sum", 0):
            return try items.reduce(items.first.map(zero) ?? .int(0)) { try CELOperators.arithmetic("+", $0, $1) }
        case (.list(let items), "min", 0), (.list(let items), "max", 0):
            guard var best = items.first else { throw CELError("\(name) of an empty list") }
            for item in items.dropFirst() {
                let order = try CELOperators.compare(item, best, "<")
                if (name == "min" && order < 0) || (name == "max" && order > 0) { best = item }
            }
            return best
        case (.list(let items), "indexOf", 1):
            return .int(Int64(items.firstIndex { CELOperators.equal($0, arguments[0]) } ?? -1))
        case (.map, "size", _), (.list, "size", _):
            throw CELError("size takes no arguments")
        case (.duration(let seconds), "getSeconds", 0): return .int(try Self.integer(seconds.rounded(.towardZero)))
        case (.duration(let seconds), "getMilliseconds", 0): return .int(try Self.integer((seconds * 1000).rounded(.towardZero)))
        case (.timestamp(let date), "getFullYear", 0): return .int(Int64(Calendar(identifier: .gregorian).component(.year, from: date)))
        default:
            throw CELError("found no matching overload for '\(name)' applied to '\(target.typeName).(\(arguments.map(\.typeName).joined(separator: ", ")))'")
        }
    }

    private static func zero(_ like: CELValue) -> CELValue {
        switch like {
        case .double: return .double(0)
        case .uint: return .uint(0)
        case .duration: return .duration(0)
        default: return .int(0)
        }
    }

    static func string(_ value: CELValue) throws -> String {
        guard case .string(let s) = value else { throw CELError("no such overload: expected string, got \(value.typeName)") }
        return s
    }

    static func int(_ value: CELValue) throws -> Int64 {
        guard case .int(let i) = try toInt(value) else { throw CELError("expected int") }
        return i
    }

    static func toInt(_ value: CELValue) throws -> CELValue {
        switch value {
        case .int: return value
        case .uint(let u):
            guard let i = Int64(exactly: u) else { throw CELError("integer overflow") }
            return .int(i)
        case .double(let d):
            guard d.isFinite, let i = Int64(exactly: d.rounded(.towardZero)) else { throw CELError("integer overflow") }
            return .int(i)
        case .string(let s):
            guard let i = Int64(s) else { throw CELError("type conversion error from string to int: \(s)") }
            return .int(i)
        case .duration(let d): return .int(try Self.integer(d.rounded(.towardZero)))
        case .timestamp(let t): return .int(try Self.integer(t.timeIntervalSince1970.rounded(.down)))
        default: throw CELError("type conversion error to int from \(value.typeName)")
        }
    }

    static func toUInt(_ value: CELValue) throws -> CELValue {
        switch value {
        case .uint: return value
        case .int(let i):
            guard i >= 0 else { throw CELError("unsigned integer overflow") }
            return .uint(UInt64(i))
        case .double(let d):
            guard d.isFinite, d >= 0, let u = UInt64(exactly: d.rounded(.towardZero)) else { throw CELError("unsigned integer overflow") }
            return .uint(u)
        case .string(let s):
            guard let u = UInt64(s) else { throw CELError("type conversion error from string to uint: \(s)") }
            return .uint(u)
        default: throw CELError("type conversion error to uint from \(value.typeName)")
        }
    }

    static func toDouble(_ value: CELValue) throws -> CELValue {
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s):
            guard let d = Double(s) else { throw CELError("type conversion error from string to double: \(s)") }
            return .double(d)
        default: throw CELError("type conversion error to double from \(value.typeName)")
        }
    }
}
