import Foundation

/// The JSONPath subset that printer columns, selectable fields and scale subresources use:
/// `.a.b`, `.a[0]`, `.a[*].b`, and filters `.a[?(@.type=="Ready")].status`.
public struct JSONPath: Sendable {
    enum Step: Sendable {
        case field(String)
        case index(Int)
        case all
        case filter(path: [String], value: String)
    }

    let steps: [Step]

    /// Parses a path (with or without the leading dot or `{}`); `nil` when it cannot be read.
    public init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("{"), rest.hasSuffix("}") { rest = rest.dropFirst().dropLast() }
        if rest.hasPrefix("$") { rest = rest.dropFirst() }
        var steps: [Step] = []
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                steps.append(.field(String(name)))
                rest = rest.dropFirst(name.count)
            } else if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if inside == "*" {
                    steps.append(.all)
                } else if let index = Int(inside) {
                    steps.append(.index(index))
                } else if inside.hasPrefix("?(@."), inside.hasSuffix(")"), let equals = inside.range(of: "==") {
                    let path = inside[inside.index(inside.startIndex, offsetBy: 4)..<equals.lowerBound].split(separator: ".").map(String.init)
                    let value = inside[equals.upperBound..<inside.index(before: inside.endIndex)]
                        .trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
                    steps.append(.filter(path: path, value: value))
                } else if inside.hasPrefix("'") || inside.hasPrefix("\"") {
                    steps.append(.field(inside.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))))
                } else {
                    return nil
                }
            } else {
                let name = rest.prefix { $0 != "." && $0 != "[" }
                steps.append(.field(String(name)))
                rest = rest.dropFirst(name.count)
            }
        }
        self.steps = steps
    }

    /// Every value the path reaches in `object`.
    public func values(in object: JSON) -> [JSON] {
        var current = [object]
        for step in steps {
            current = current.flatMap { value -> [JSON] in
                switch step {
                case .field(let name): return value[name].map { [$0] } ?? []
                case .index(let index):
                    guard let items = value.arrayValue else { return [] }
                    let position = index < 0 ? items.count + index : index
                    return items.indices.contains(position) ? [items[position]] : []
                case .all: return value.arrayValue ?? Array((value.objectValue ?? [:]).values)
                case .filter(let path, let wanted):
                    return (value.arrayValue ?? []).filter { item in
                        guard let found = item[path: path] else { return false }
                        return (found.stringValue ?? found.text) == wanted
                    }
                }
            }
        }
        return current
    }
}
