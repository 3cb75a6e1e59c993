/// One field of an object in the terms of managedFields (FieldsV1): a path of steps `f:NAME`
/// (a struct or map member), `k:{KEYS}` (an element of a map-list, by its keys), `v:VALUE`
/// (an element of a set) and `.` (the element itself).
public typealias FieldPath = [String]

/// The fields of objects as sets of paths, read with the schema's list types
/// (`x-kubernetes-list-type` map, set or atomic, `x-kubernetes-list-map-keys`).
public enum FieldPaths {
    /// Fields no manager owns: identity and server-owned metadata.
    static let ignored: Set<FieldPath> = [
        ["f:apiVersion"], ["f:kind"], ["f:metadata", "f:name"], ["f:metadata", "f:namespace"], ["f:metadata", "f:uid"],
        ["f:metadata", "f:resourceVersion"], ["f:metadata", "f:generation"], ["f:metadata", "f:creationTimestamp"],
        ["f:metadata", "f:managedFields"], ["f:metadata", "f:selfLink"], ["f:metadata", "f:deletionTimestamp"],
        ["f:metadata", "f:deletionGracePeriodSeconds"],
    ]

    /// The leaf fields an object sets.
    public static func of(_ object: JSON, schema: SchemaNode?) -> Set<FieldPath> {
        Set(leaves(of: object, schema: schema).keys)
    }

    /// The leaf fields an object sets, each with its value (for an element's `.` path: its
    /// presence, `true`), read in one walk.
    public static func leaves(of object: JSON, schema: SchemaNode?) -> [FieldPath: JSON] {
        var leaves: [FieldPath: JSON] = [:]
        collect(object, schema, [], into: &leaves)
        return leaves.filter { path, _ in !ignored.contains(where: { path.starts(with: $0) }) }
    }

    private static func collect(_ value: JSON, _ schema: SchemaNode?, _ path: FieldPath, into leaves: inout [FieldPath: JSON]) {
        switch value {
        case .object(let members) where !members.isEmpty && !isAtomicObject(schema):
            for (key, member) in members {
                collect(member, schema?.child(key), path + ["f:" + key], into: &leaves)
            }
        case .array(let elements) where !elements.isEmpty:
            switch listType(schema) {
            case .map(let keys):
                for element in elements {
                    let step = "k:" + keyText(element, keys)
                    leaves[path + [step, "."]] = true
                    collect(element, schema?.items, path + [step], into: &leaves)
                }
            case .set:
                for element in elements { leaves[path + ["v:" + element.text]] = element }
            case .atomic:
                leaves[path] = value
            }
        default:
            if !path.isEmpty { leaves[path] = value }
        }
    }

    static func isAtomicObject(_ schema: SchemaNode?) -> Bool {
        guard let schema else { return false }
        if schema.schema["x-kubernetes-map-type"]?.stringValue == "atomic" { return true }
        let resolved = schema.resolved
        if resolved["x-kubernetes-map-type"]?.stringValue == "atomic" { return true }
        return resolved["properties"] == nil && resolved["additionalProperties"] == nil && resolved["type"] == "object"
            && resolved["x-kubernetes-preserve-unknown-fields"] == true
    }

    enum ListType {
        case map([String])
        case set
        case atomic
    }

    static func listType(_ schema: SchemaNode?) -> ListType {
        guard let schema else { return .atomic }
        switch schema.schema["x-kubernetes-list-type"]?.stringValue {
        case "map":
            let keys = (schema.schema["x-kubernetes-list-map-keys"]?.arrayValue ?? []).compactMap(\.stringValue)
            return .map(keys.isEmpty ? [schema.mergeKey ?? "name"] : keys)
        case "set": return .set
        case "atomic": return .atomic
        default:
            if let key = schema.mergeKey, schema.patchStrategies.contains("merge") { return .map([key]) }
            return .atomic
        }
    }

    /// `{"name":"web"}`: the key fields of a map-list element, in key order.
    static func keyText(_ element: JSON, _ keys: [String]) -> String {
        var members: [String: JSON] = [:]
        for key in keys { if let value = element[key] { members[key] = value } }
        return JSON.object(members).text
    }

    /// The FieldsV1 JSON of a set of paths: a trie of steps, `{}` at each leaf.
    public static func fieldsV1(_ paths: Set<FieldPath>) -> JSON {
        var root = JSON.emptyObject
        for path in paths where !path.isEmpty {
            root[path: path] = root[path: path] ?? .emptyObject
        }
        return root
    }

    /// The paths of a FieldsV1 trie.
    public static func paths(fromFieldsV1 trie: JSON) -> Set<FieldPath> {
        var paths = Set<FieldPath>()
        func walk(_ node: JSON, _ path: FieldPath) {
            let members = node.objectValue ?? [:]
            if members.isEmpty {
                if !path.isEmpty { paths.insert(path) }
                return
            }
            for (key, child) in members { walk(child, path + [key]) }
        }
        walk(trie, [])
        return paths
    }
}
