/// Kubernetes' strategic merge patch: a merge patch that knows, from the type's schema,
/// which lists merge element by element (`x-kubernetes-patch-strategy: merge`, keyed by
/// `x-kubernetes-patch-merge-key`, or as sets of primitives) instead of being replaced, with
/// the directives `$patch` (`replace`, `delete`, `merge`), `$retainKeys`,
/// `$setElementOrder/FIELD` and `$deleteFromPrimitiveList/FIELD`.
public enum StrategicMergePatch {
    public static func apply(_ patch: JSON, to original: JSON, schema: SchemaNode?) throws -> JSON {
        guard case .object = patch else { throw StatusError.badRequest("a strategic merge patch must be a JSON object") }
        return try mergeMap(original, patch, schema) ?? .emptyObject
    }

    /// Merges a patch map into an original map; `nil` when the patch deletes the map.
    static func mergeMap(_ original: JSON, _ patch: JSON, _ schema: SchemaNode?) throws -> JSON? {
        guard case .object(var patchMembers) = patch else { return patch }
        switch patchMembers.removeValue(forKey: "$patch")?.stringValue {
        case "replace"?: return .object(patchMembers.filter { !$0.key.hasPrefix("$") })
        case "delete"?: return nil
        case "merge"?, nil: break
        case let other?: throw StatusError.badRequest("unknown $patch directive \"\(other)\"")
        }
        let retainKeys = patchMembers.removeValue(forKey: "$retainKeys")
        var result: [String: JSON]
        if case .object(let members) = original { result = members } else { result = [:] }
        var orders: [String: [JSON]] = [:]
        for (key, value) in patchMembers.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removed = value.arrayValue ?? []
                if let list = result[field]?.arrayValue {
                    result[field] = .array(list.filter { !removed.contains($0) })
                }
                continue
            }
            let child = schema?.child(key)
            if value == .null {
                result[key] = nil
                continue
            }
            switch value {
            case .object:
                if case .object = result[key] ?? .null {
                    result[key] = try mergeMap(result[key]!, value, child)
                } else {
                    result[key] = try mergeMap(.emptyObject, value, child)
                }
            case .array(let elements):
                if let child, child.patchStrategies.contains("merge") {
                    result[key] = .array(try mergeList(result[key]?.arrayValue ?? [], elements, child))
                } else {
                    result[key] = .array(elements.filter { !isDirectiveOnly($0) })
                }
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            if let list = result[field]?.arrayValue {
                result[field] = .array(reorder(list, by: order, mergeKey: schema?.child(field)?.mergeKey))
            }
        }
        if let keys = retainKeys?.arrayValue?.compactMap(\.stringValue) {
            let keep = Set(keys)
            result = result.filter { keep.contains($0.key) }
        }
        return .object(result)
    }

    /// Merges a patch list into an original list whose schema says "merge".
    static func mergeList(_ original: [JSON], _ patch: [JSON], _ schema: SchemaNode) throws -> [JSON] {
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0["$patch"] == nil }
        }
        guard let key = schema.mergeKey else {
            // A set of primitives: union, keeping the original order.
            var result = original
            for element in patch where !result.contains(element) && !isDirectiveOnly(element) { result.append(element) }
            return result
        }
        var result = original
        for element in patch {
            let id = element[key]
            let index = result.firstIndex { $0[key] == id && id != nil }
            if element["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                if let merged = try mergeMap(result[index], element, schema.items) { result[index] = merged } else { result.remove(at: index) }
            } else if let added = try mergeMap(.emptyObject, element, schema.items) {
                result.append(added)
            }
        }
        return result
    }

    /// Orders a list as `$setElementOrder` gives: listed elements first, in that order.
    static func reorder(_ list: [JSON], by order: [JSON], mergeKey: String?) -> [JSON] {
        func position(_ element: JSON) -> Int? {
            if let mergeKey { return order.firstIndex { $0[mergeKey] == element[mergeKey] } }
            return order.firstIndex(of: element)
        }
        return list.enumerated().sorted { a, b in
            switch (position(a.element), position(b.element)) {
            case let (x?, y?): return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }

    static func isDirectiveOnly(_ element: JSON) -> Bool {
        guard case .object(let members) = element else { return false }
        return !members.isEmpty && members.keys.allSatisfy { $0.hasPrefix("$") }
    }
}
