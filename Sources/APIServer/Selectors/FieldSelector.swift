/// A field selector: `field=value`, `field==value`, `field!=value`, joined by commas, over the
/// fields a resource supports (`metadata.name`, `metadata.namespace` and its own).
public struct FieldSelector: Sendable, Hashable {
    struct Requirement: Sendable, Hashable {
        var field: String
        var value: String
        var equal: Bool
    }

    var requirements: [Requirement]

    public static let everything = FieldSelector(requirements: [])
    public var isEverything: Bool { requirements.isEmpty }

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the query form, refusing fields the resource does not support (400, as
    /// kube-apiserver: `field label not supported`).
    public init(parsing text: String, supported: Set<String>) throws {
        var requirements: [Requirement] = []
        for clause in text.split(separator: ",") {
            let c = clause.trimmingCharacters(in: .whitespaces)
            if c.isEmpty { continue }
            let requirement: Requirement
            if let r = c.range(of: "!=") {
                requirement = Requirement(field: String(c[..<r.lowerBound]), value: String(c[r.upperBound...]), equal: false)
            } else if let r = c.range(of: "==") {
                requirement = Requirement(field: String(c[..<r.lowerBound]), value: String(c[r.upperBound...]), equal: true)
            } else if let r = c.range(of: "=") {
                requirement = Requirement(field: String(c[..<r.lowerBound]), value: String(c[r.upperBound...]), equal: true)
            } else {
                throw StatusError.badRequest("invalid selector: '\(text)'; can't understand '\(c)'")
            }
            guard supported.contains(requirement.field) else {
                throw StatusError.badRequest("field label not supported: \(requirement.field)")
            }
            requirements.append(requirement)
        }
        self.requirements = requirements
    }

    /// Whether the object's field values satisfy every requirement.
    public func matches(_ object: JSON) -> Bool {
        matches(object) { FieldSelector.value(of: $0, in: object) }
    }

    /// Whether the field values `value` gives (a resource's own field set) satisfy every requirement.
    public func matches(_ object: JSON, value: (String) -> String) -> Bool {
        requirements.allSatisfy { requirement in
            (value(requirement.field) == requirement.value) == requirement.equal
        }
    }

    /// The string form of a field, as field selectors compare it ("" when absent).
    static func value(of field: String, in object: JSON) -> String {
        switch object[path: field.split(separator: ".").map(String.init)] {
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "true" : "false"
        case .int(let i)?: return String(i)
        case .double(let d)?: return String(d)
        default: return ""
        }
    }

    /// The value a requirement pins with `=` (to narrow a list to one namespace or name).
    func equalValue(of field: String) -> String? {
        requirements.first { $0.field == field && $0.equal }?.value
    }
}

import Foundation
