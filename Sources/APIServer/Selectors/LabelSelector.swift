/// A label selector in the query syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
/// `a`, `!a`, `a>1`, `a<1`, joined by commas (all must hold).
public struct LabelSelector: Sendable, Hashable {
    enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
        case greaterThan(String, Int64)
        case lessThan(String, Int64)
    }

    var requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])
    public var isEverything: Bool { requirements.isEmpty }

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the query form; throws a 400 `Status` for malformed selectors.
    public init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for clause in Self.splitClauses(text) {
            let c = clause.trimmingCharacters(in: .whitespaces)
            if c.isEmpty { continue }
            requirements.append(try Self.parseClause(c))
        }
        self.requirements = requirements
    }

    /// Splits on commas outside parentheses.
    static func splitClauses(_ text: String) -> [String] {
        var clauses: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if c == "," && depth == 0 {
                clauses.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        clauses.append(current)
        return clauses
    }

    static func parseClause(_ c: String) throws -> Requirement {
        func invalid() -> StatusError { .badRequest("unable to parse requirement: invalid label selector \"\(c)\"") }
        func key(_ k: Substring) throws -> String {
            let key = k.trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, NameValidation.labelKeyErrors(key).isEmpty else { throw invalid() }
            return key
        }
        func value(_ v: Substring) throws -> String {
            let value = v.trimmingCharacters(in: .whitespaces)
            guard NameValidation.labelValueErrors(value).isEmpty else { throw invalid() }
            return value
        }
        if c.hasPrefix("!") { return .doesNotExist(try key(c.dropFirst())) }
        if let r = c.range(of: "!=") { return .notEquals(try key(c[..<r.lowerBound]), try value(c[r.upperBound...])) }
        if let r = c.range(of: "==") { return .equals(try key(c[..<r.lowerBound]), try value(c[r.upperBound...])) }
        if let r = c.range(of: "=") { return .equals(try key(c[..<r.lowerBound]), try value(c[r.upperBound...])) }
        if let r = c.range(of: ">") {
            guard let n = Int64(c[r.upperBound...].trimmingCharacters(in: .whitespaces)) else { throw invalid() }
            return .greaterThan(try key(c[..<r.lowerBound]), n)
        }
        if let r = c.range(of: "<") {
            guard let n = Int64(c[r.upperBound...].trimmingCharacters(in: .whitespaces)) else { throw invalid() }
            return .lessThan(try key(c[..<r.lowerBound]), n)
        }
        let words = c.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        if words.count == 2 {
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for (op, isIn) in [("notin", false), ("in", true)] where rest.hasPrefix(op) {
                let list = rest.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { throw invalid() }
                let values = Set(try list.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false).map { try value($0) })
                let k = try key(words[0])
                return isIn ? .isIn(k, values) : .notIn(k, values)
            }
            throw invalid()
        }
        return .exists(try key(Substring(c)))
    }

    /// Builds a selector from a `LabelSelector` object (`matchLabels`, `matchExpressions`).
    public init(object: JSON) throws {
        var requirements: [Requirement] = []
        for (k, v) in (object["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append(.equals(k, v.stringValue ?? ""))
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            let k = expression["key"]?.stringValue ?? ""
            let values = Set((expression["values"]?.arrayValue ?? []).compactMap(\.stringValue))
            switch expression["operator"]?.stringValue ?? "" {
            case "In": requirements.append(.isIn(k, values))
            case "NotIn": requirements.append(.notIn(k, values))
            case "Exists": requirements.append(.exists(k))
            case "DoesNotExist": requirements.append(.doesNotExist(k))
            case let op: throw StatusError.badRequest("\(op) is not a valid label selector operator")
            }
        }
        self.requirements = requirements
    }

    /// Whether an object's labels satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .isIn(let k, let values): return labels[k].map(values.contains) ?? false
            case .notIn(let k, let values): return !(labels[k].map(values.contains) ?? false)
            case .exists(let k): return labels[k] != nil
            case .doesNotExist(let k): return labels[k] == nil
            case .greaterThan(let k, let n): return labels[k].flatMap { Int64($0) }.map { $0 > n } ?? false
            case .lessThan(let k, let n): return labels[k].flatMap { Int64($0) }.map { $0 < n } ?? false
            }
        }
    }

    /// The selector in query syntax (for Scale's `status.selector`).
    public var text: String {
        requirements.map { requirement in
            switch requirement {
            case .equals(let k, let v): return "\(k)=\(v)"
            case .notEquals(let k, let v): return "\(k)!=\(v)"
            case .isIn(let k, let values): return "\(k) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let k, let values): return "\(k) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let k): return k
            case .doesNotExist(let k): return "!\(k)"
            case .greaterThan(let k, let n): return "\(k)>\(n)"
            case .lessThan(let k, let n): return "\(k)<\(n)"
            }
        }.joined(separator: ",")
    }
}

import Foundation
