import Foundation

/// CEL's binary operators (other than `&&` and `||`).
enum CELOperators {
    static func apply(_ op: String, _ l: CELValue, _ r: CELValue) throws -> CELValue {
        switch op {
        case "==": return .bool(equal(l, r))
        case "!=": return .bool(!equal(l, r))
        case "<", "<=", ">", ">=":
            let order = try compare(l, r, op)
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "in":
            switch r {
            case .list(let items): return .bool(items.contains { equal($0, l) })
            case .map(let entries): return .bool(entries.keys.contains { equal($0, l) })
            default: throw CELError("no such overload: in on \(r.typeName)")
            }
        default:
            return try arithmetic(op, l, r)
        }
    }

    /// Equality, numbers compared by value across their types.
    static func equal(_ l: CELValue, _ r: CELValue) -> Bool {
        if let a = l.number, let b = r.number { return a == b && sameIntegerValue(l, r) }
        switch (l, r) {
        case (.list(let a), .list(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.map(let a), .map(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { equal(value, $0) } ?? false }
        default: return l == r
        }
    }

    /// Large integers lose precision as doubles; compare int with uint exactly.
    private static func sameIntegerValue(_ l: CELValue, _ r: CELValue) -> Bool {
        switch (l, r) {
        case (.int(let a), .uint(let b)), (.uint(let b), .int(let a)): return a >= 0 && UInt64(a) == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        default: return true
        }
    }

    static func compare(_ l: CELValue, _ r: CELValue, _ op: String) throws -> Int {
        switch (l, r) {
        case (.int(let a), .int(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.uint(let a), .uint(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .string(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.bytes(let a), .bytes(let b)): return a == b ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
        case (.duration(let a), .duration(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.timestamp(let a), .timestamp(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        default:
            if let a = l.number, let b = r.number { return a < b ? -1 : (a > b ? 1 : 0) }
            throw CELError("no such overload: \(l.typeName) \(op) \(r.typeName)")
        }
    }

    /// Integer arithmetic that fails on overflow and on division by zero (int or uint alike).
    static func integer<T: FixedWidthInteger>(_ op: String, _ a: T, _ b: T, type: String) throws -> T {
        let (value, overflow): (T, Bool)
        switch op {
        case "+": (value, overflow) = a.addingReportingOverflow(b)
        case "-": (value, overflow) = a.subtractingReportingOverflow(b)
        case "*": (value, overflow) = a.multipliedReportingOverflow(by: b)
        case "/":
            guard b != 0 else { throw CELError("division by zero") }
            (value, overflow) = a.dividedReportingOverflow(by: b)
        case "%":
            guard b != 0 else { throw CELError("modulus by zero") }
            (value, overflow) = a.remainderReportingOverflow(dividingBy: b)
        default: throw CELError("no such overload: \(type) \(op) \(type)")
        }
        if overflow { throw CELError(T.isSigned ? "integer overflow" : "unsigned integer overflow") }
        return value
    }

    static func arithmetic(_ op: String, _ l: CELValue, _ r: CELValue) throws -> CELValue {
        switch (l, r) {
        case (.int(let a), .int(let b)): return .int(try integer(op, a, b, type: "int"))
        case (.uint(let a), .uint(let b)): return .uint(try integer(op, a, b, type: "uint"))
        case (.double(let a), .double(let b)):
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/": return .double(a / b)
            default: throw CELError("no such overload: double \(op) double")
            }
        case (.string(let a), .string(let b)) where op == "+": return .string(a + b)
        case (.bytes(let a), .bytes(let b)) where op == "+": return .bytes(a + b)
        case (.list(let a), .list(let b)) where op == "+": return .list(a + b)
        case (.duration(let a), .duration(let b)) where op == "+" || op == "-":
            let result = op == "+" ? a + b : a - b
            guard result.magnitude < 9_223_372_036.854775807 else { throw CELError("duration overflow") }
            return .duration(result)
        case (.timestamp(let t), .duration(let d)) where op == "+" || op == "-":
            let result = t.addingTimeInterval(op == "+" ? d : -d)
            // CEL's timestamps run from year 1 to 9999.
            guard (-62_135_596_800...253_402_300_799).contains(result.timeIntervalSince1970) else {
                throw CELError("timestamp overflow")
            }
            return .timestamp(result)
        case (.timestamp(let a), .timestamp(let b)) where op == "-": return .duration(a.timeIntervalSince(b))
        default:
            throw CELError("no such overload: \(l.typeName) \(op) \(r.typeName)")
        }
    }
}
