/// Structural merge and removal of fields as server-side apply needs them: maps and structs
/// merge member by member, map-lists element by element (by their keys), sets as unions,
/// atomic lists and scalars are replaced.
enum ObjectMerge {
    static func merge(_ config: JSON, into live: JSON, schema: SchemaNode?) -> JSON {
        switch (config, live) {
        case (.object(let applied), .object(var current)) where !FieldPaths.isAtomicObject(schema):
            for (key, value) in applied where value != .null {
                current[key] = merge(value, into: current[key] ?? .null, schema: schema?.child(key))
            }
            return .object(current)
        case (.array(let applied), .array(var current)):
            switch FieldPaths.listType(schema) {
            case .map(let keys):
                for element in applied {
                    let id = FieldPaths.keyText(element, keys)
                    if let index = current.firstIndex(where: { FieldPaths.keyText($0, keys) == id }) {
                        current[index] = merge(element, into: current[index], schema: schema?.items)
                    } else {
                        current.append(element)
                    }
                }
                return .array(current)
            case .set:
                for element in applied where !current.contains(element) { current.append(element) }
                return .array(current)
            case .atomic:
                return config
            }
        default:
            return config
        }
    }

    /// The object without the field at `path`.
    static func remove(_ path: FieldPath, from object: JSON, schema: SchemaNode?) -> JSON {
        guard let step = path.first else { return object }
        let rest = Array(path.dropFirst())
        if step.hasPrefix("f:") {
            let name = String(step.dropFirst(2))
            guard case .object(var members) = object, let child = members[name] else { return object }
            if rest.isEmpty || rest == ["."] {
                members[name] = nil
            } else {
                let updated = remove(rest, from: child, schema: schema?.child(name))
                members[name] = updated.objectValue?.isEmpty == true ? nil : updated
            }
            return .object(members)
        }
        guard case .array(var elements) = object else { return object }
        if step.hasPrefix("k:"), case .map(let keys) = FieldPaths.listType(schema) {
            let id = String(step.dropFirst(2))
            guard let index = elements.firstIndex(where: { FieldPaths.keyText($0, keys) == id }) else { return object }
            if rest.isEmpty || rest == ["."] {
                elements.remove(at: index)
            } else {
                elements[index] = remove(rest, from: elements[index], schema: schema?.items)
            }
        } else if step.hasPrefix("v:") {
            let text = String(step.dropFirst(2))
            elements.removeAll { $0.text == text }
        }
        return .array(elements)
    }
}
