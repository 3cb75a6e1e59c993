import Synchronization

/// A position in the structural schemas of `openapi/definitions.json`: the schema that
/// describes one field (with its patch strategy and merge key), able to step into object
/// properties, map values and list items, following `$ref`s.
public struct SchemaNode: Sendable {
    /// The field's schema as written where it is used (a `$ref` with its siblings).
    public let schema: JSON
    let definitions: SchemaDefinitions

    /// The schema of a definition (a kind's root).
    public init?(definition name: String, in definitions: SchemaDefinitions) {
        guard let schema = definitions[name] else { return nil }
        self.schema = schema
        self.definitions = definitions
    }

    init(schema: JSON, definitions: SchemaDefinitions) {
        self.schema = schema
        self.definitions = definitions
    }

    /// The schema with its `$ref` followed.
    var resolved: JSON {
        var node = schema
        var hops = 0
        while let ref = node["$ref"]?.stringValue, hops < 32,
              let target = definitions[String(ref.split(separator: "/").last ?? "")] {
            node = target
            hops += 1
        }
        return node
    }

    /// `x-kubernetes-patch-strategy` (e.g. `merge`, `retainKeys`, `merge,retainKeys`).
    public var patchStrategies: Set<String> {
        Set((schema["x-kubernetes-patch-strategy"]?.stringValue ?? "").split(separator: ",").map(String.init))
    }

    /// `x-kubernetes-patch-merge-key`.
    public var mergeKey: String? { schema["x-kubernetes-patch-merge-key"]?.stringValue }

    /// The schema of an object property or a map value.
    public func child(_ name: String) -> SchemaNode? {
        let object = resolved
        if let property = object["properties"]?[name] { return SchemaNode(schema: property, definitions: definitions) }
        if let values = object["additionalProperties"], case .object = values {
            return SchemaNode(schema: values, definitions: definitions)
        }
        return nil
    }

    /// The schema of list items.
    public var items: SchemaNode? {
        resolved["items"].map { SchemaNode(schema: $0, definitions: definitions) }
    }
}

/// Every structural schema by definition name: the built-in ones, and those of custom
/// resources, replaced as their definitions change (a shared reference).
public final class SchemaDefinitions: Sendable {
    private let builtIn: [String: JSON]
    private let custom = Mutex<[String: JSON]>([:])

    public init(_ table: [String: JSON]) { builtIn = table }

    /// Replaces the custom resources' schemas.
    public func setCustom(_ schemas: [String: JSON]) { custom.withLock { $0 = schemas } }

    /// The custom resources' schemas.
    public var customSchemas: [String: JSON] { custom.withLock { $0 } }

    /// The schema of a definition.
    subscript(name: String) -> JSON? { builtIn[name] ?? custom.withLock { $0[name] } }
}
