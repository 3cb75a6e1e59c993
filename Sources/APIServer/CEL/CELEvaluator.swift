import Foundation

/// Evaluates a ``CELExpression`` against named variables, with CEL's semantics: `&&` and `||`
/// absorb errors when the other side decides, numbers compare across int, uint and double,
/// a missing map key is an error (`has()` tests for it), integer overflow is an error.
/// Each evaluation has a cost budget, as kube-apiserver's per-call limit: every step (a node
/// evaluated, a comprehension's element) costs one, and past ``costLimit`` the evaluation stops
/// with kube-apiserver's "cost limit exceeded" error.
public struct CELEvaluator: Sendable {
    public var variables: [String: CELValue]
    /// The most steps one evaluation may take.
    public var costLimit: Int

    /// kube-apiserver's per-expression runtime cost limit.
    public static let defaultCostLimit = 1_000_000

    public init(variables: [String: CELValue], costLimit: Int = CELEvaluator.defaultCostLimit) {
        self.variables = variables
        self.costLimit = costLimit
    }

    /// The steps an evaluation has left (one evaluation runs on one thread).
    final class Budget: @unchecked Sendable {
        var remaining: Int
        init(_ remaining: Int) { self.remaining = remaining }

        var isSpent: Bool { remaining < 0 }

        func spend() throws {
            remaining -= 1
            try check()
        }

        /// Throws kube-apiserver's error once the budget is spent.
        func check() throws {
            if isSpent { throw CELError("operation cancelled: actual cost limit exceeded") }
        }
    }

    public func evaluate(_ expression: CELExpression) throws -> CELValue {
        try evaluate(expression, Budget(costLimit))
    }

    func evaluate(_ expression: CELExpression, _ budget: Budget) throws -> CELValue {
        try budget.spend()
        func evaluate(_ expression: CELExpression) throws -> CELValue { try self.evaluate(expression, budget) }
        switch expression {
        case .literal(let value): return value
        case .identifier(let name):
            if let value = variables[name] { return value }
            if ["int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"].contains(name) { return .type(name) }
            throw CELError("undeclared reference to '\(name)'")
        case .select(let target, let field):
            return try select(try evaluate(target), field)
        case .presence(let target, let field):
            switch try evaluate(target) {
            case .map(let entries): return .bool(entries[.string(field)] != nil)
            case .null: return .bool(false)
            case let other: throw CELError("has() is not defined on \(other.typeName)")
            }
        case .index(let target, let index):
            return try self.index(try evaluate(target), try evaluate(index))
        case .list(let items): return .list(try items.map(evaluate))
        case .map(let entries):
            var result: [CELValue: CELValue] = [:]
            for (key, value) in entries {
                let k = try evaluate(key)
                if result[k] != nil { throw CELError("Failed with repeated key: \(k.text)") }
                result[k] = try evaluate(value)
            }
            return .map(result)
        case .unary(let op, let operand):
            let value = try evaluate(operand)
            switch (op, value) {
            case ("!", .bool(let b)): return .bool(!b)
            case ("-", .int(let i)):
                guard i != .min else { throw CELError("integer overflow") }
                return .int(-i)
            case ("-", .double(let d)): return .double(-d)
            default: throw CELError("no such overload: \(op)\(value.typeName)")
            }
        case .binary("&&", let left, let right):
            return try logical(left, right, decisive: false, budget)
        case .binary("||", let left, let right):
            return try logical(left, right, decisive: true, budget)
        case .binary(let op, let left, let right):
            return try CELOperators.apply(op, try evaluate(left), try evaluate(right))
        case .conditional(let condition, let then, let otherwise):
            guard case .bool(let b) = try evaluate(condition) else { throw CELError("no such overload: ternary on a non-bool condition") }
            return try evaluate(b ? then : otherwise)
        case .call(let name, let target, let arguments):
            return try CELFunctions.call(name, target: try target.map(evaluate), arguments: try arguments.map(evaluate))
        case .comprehension(let macro, let range, let variable, let filter, let body):
            return try comprehension(macro, range: try evaluate(range), variable: variable, filter: filter, body: body, budget)
        }
    }

    /// `&&` (decisive value false) and `||` (decisive value true): the decisive value wins even
    /// over an error on the other side.
    private func logical(_ left: CELExpression, _ right: CELExpression, decisive: Bool, _ budget: Budget) throws -> CELValue {
        let l = Result { try evaluate(left, budget) }
        if case .success(.bool(decisive)) = l { return .bool(decisive) }
        try budget.check()
        let r = Result { try evaluate(right, budget) }
        try budget.check()
        if case .success(.bool(decisive)) = r { return .bool(decisive) }
        switch (l, r) {
        case (.success(.bool), .success(.bool)): return .bool(!decisive)
        case (.failure(let error), _), (_, .failure(let error)): throw error
        default: throw CELError("no such overload: \(decisive ? "||" : "&&") on non-bool operands")
        }
    }

    func select(_ value: CELValue, _ field: String) throws -> CELValue {
        guard case .map(let entries) = value else { throw CELError("no such key: \(field) (on \(value.typeName))") }
        guard let found = entries[.string(field)] else { throw CELError("no such key: \(field)") }
        return found
    }

    func index(_ value: CELValue, _ index: CELValue) throws -> CELValue {
        switch (value, index) {
        case (.list(let items), _):
            guard let number = index.number, number == number.rounded(), Int(exactly: number) != nil else {
                throw CELError("no such overload: list index of type \(index.typeName)")
            }
            let i = Int(number)
            guard items.indices.contains(i) else { throw CELError("index out of bounds: \(i)") }
            return items[i]
        case (.map(let entries), _):
            if let found = entries[index] { return found }
            // Numeric keys match across int, uint and double.
            if let number = index.number, let found = entries.first(where: { $0.key.number == number })?.value { return found }
            throw CELError("no such key: \(index.text)")
        default:
            throw CELError("no such overload: index on \(value.typeName)")
        }
    }

    private func comprehension(_ macro: String, range: CELValue, variable: String, filter: CELExpression?,
                               body: CELExpression, _ budget: Budget) throws -> CELValue {
        let elements: [CELValue]
        switch range {
        case .list(let items): elements = items
        case .map(let entries): elements = Array(entries.keys)
        default: throw CELError("no such overload: \(macro) on \(range.typeName)")
        }
        var scope = self
        func run(_ expression: CELExpression, _ element: CELValue) throws -> CELValue {
            scope.variables[variable] = element
            try budget.spend()
            return try scope.evaluate(expression, budget)
        }
        func predicate(_ element: CELValue) throws -> Bool {
            guard case .bool(let b) = try run(body, element) else { throw CELError("no such overload: \(macro) predicate is not a bool") }
            return b
        }
        switch macro {
        case "all", "exists":
            // Like && and ||: a decisive element wins over errors from others.
            let decisive = macro == "exists"
            var firstError: (any Error)?
            for element in elements {
                do {
                    if try predicate(element) == decisive { return .bool(decisive) }
                } catch {
                    // Running out of budget is not an element's error: it ends the evaluation.
                    if budget.isSpent { throw error }
                    if firstError == nil { firstError = error }
                }
            }
            if let firstError { throw firstError }
            return .bool(!decisive)
        case "exists_one":
            return .bool(try elements.filter(predicate).count == 1)
        case "filter":
            return .list(try elements.filter(predicate))
        default:
            var mapped: [CELValue] = []
            for element in elements {
                if let filter {
                    guard case .bool(true) = try run(filter, element) else { continue }
                }
                mapped.append(try run(body, element))
            }
            return .list(mapped)
        }
    }
}
